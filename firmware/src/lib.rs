//! The firmware's parts: one application loop written against `embedded-io`,
//! and one small UART driver per board.
#![cfg_attr(not(test), no_std)]

pub mod app;
#[cfg(any(board = "lm3s6965evb", board = "mps2-an386", board = "rp-pico"))]
pub mod board;
#[cfg(target_arch = "arm")]
pub mod fault;
pub mod measure;
pub mod model;
#[cfg(target_arch = "arm")]
pub mod stack;
#[cfg(any(board = "lm3s6965evb", board = "mps2-an386"))]
mod vectors;
