//! UART0 of the TI Stellaris LM3S6965 (an ARM PL011), polled, with its FIFOs on.
use super::{Polled, PolledUart, Register};

const BASE: usize = 0x4000_C000;
const DR: Register = Register(BASE);
const FR: Register = Register(BASE + 0x018);
const LCRH: Register = Register(BASE + 0x02C);
const CTL: Register = Register(BASE + 0x030);
const IM: Register = Register(BASE + 0x038);

const FR_RXFE: u32 = 1 << 4; // receive FIFO empty
const FR_TXFF: u32 = 1 << 5; // transmit FIFO full
const LCRH_FEN: u32 = 1 << 4; // FIFOs on: 16 bytes instead of 1, so the host can stream
const LCRH_WLEN_8: u32 = 0b11 << 5;
/// Receive (FIFO at its trigger level) and receive time-out (a byte or more, then a pause):
/// together they are raised whenever a byte waits. QEMU raises the first from one byte.
const IM_RX: u32 = (1 << 4) | (1 << 6);
const CTL_ENABLE: u32 = 1 | (1 << 8) | (1 << 9); // UARTEN, TXE, RXE

/// UART0, 8N1 with FIFOs. QEMU ignores the baud rate.
pub struct Uart0(());

/// The link to the host.
pub type Link = Polled<Uart0>;

impl PolledUart for Uart0 {
    /// UART0's interrupt on the LM3S6965.
    const RX_IRQ: u32 = 5;

    fn init() -> Self {
        CTL.write(0);
        LCRH.write(LCRH_FEN | LCRH_WLEN_8);
        IM.write(IM_RX);
        CTL.write(CTL_ENABLE);
        Uart0(())
    }

    fn receive(&self) -> Option<u8> {
        // Bits 8-11 of DR flag framing/parity/break/overrun errors.
        (FR.read() & FR_RXFE == 0).then(|| DR.read() as u8)
    }

    fn can_send(&self) -> bool {
        FR.read() & FR_TXFF == 0
    }

    fn send(&self, byte: u8) {
        DR.write(u32::from(byte));
    }
}
