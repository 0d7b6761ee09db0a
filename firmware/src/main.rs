//! Boots, opens the board's serial link and classifies digits sent over it, forever.
#![no_std]
#![no_main]

#[cfg(not(board = "rp-pico"))]
use cortex_m_rt::entry;
// The HAL's entry also resets the RP2040's spinlocks after a soft reset.
use firmware::app::{device_info, Server};
use firmware::{board, model, stack};
#[cfg(board = "rp-pico")]
use rp_pico::entry;
use shared::wire::protocol::DeviceStats;

#[entry]
fn main() -> ! {
    stack::paint();
    // One empty measured pass: its instruction count is the markers' own overhead.
    model::empty_pass();
    // `entry` runs once, so the link is there to take.
    let Some(mut link) = board::Link::take() else { cortex_m::peripheral::SCB::sys_reset() };
    let stats = || {
        let (stack_peak, stack_size) = stack::usage();
        DeviceStats { stack_peak, stack_size }
    };
    Server::new(&model::Model, device_info(board::NAME, model::CHECKSUM), stats).serve(&mut link)
}
