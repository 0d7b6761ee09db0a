//! The firmware's parts: one application loop written against `embedded-io`,
//! and one small serial-link driver per board. Every ARM build is for one
//! board (`build.rs` insists); a host build is the loop's unit tests.
#![cfg_attr(not(test), no_std)]

pub mod app;
#[cfg(target_arch = "arm")]
pub mod board;
#[cfg(any(test, m4f, m3))]
pub mod cell_rows;
#[cfg(target_arch = "arm")]
pub mod fault;
#[cfg(any(test, m3))]
pub mod m3;
#[cfg(any(test, m4f))]
pub mod m4f;
pub mod measure;
pub mod model;
#[cfg(target_arch = "arm")]
pub mod stack;
#[cfg(any(test, all(any(m3, m4f), model_int8)))]
pub mod v7m;
#[cfg(feature = "mmio-uart")]
mod vectors;
