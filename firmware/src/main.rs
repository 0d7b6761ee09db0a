//! Boots, sets up UART0 and classifies digits sent over it, forever.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use firmware::app::{device_info, Server};
use firmware::{board, model};

#[entry]
fn main() -> ! {
    let mut uart = board::Uart::take();
    Server::new(&model::WEIGHTS, device_info(board::NAME, model::CHECKSUM)).serve(&mut uart)
}
