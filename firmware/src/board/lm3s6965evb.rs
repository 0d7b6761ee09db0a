//! UART0 of the TI Stellaris LM3S6965 (an ARM PL011), polled.
use super::Register;
use core::convert::Infallible;

const BASE: usize = 0x4000_C000;
const DR: Register = Register(BASE);
const FR: Register = Register(BASE + 0x018);
const LCRH: Register = Register(BASE + 0x02C);
const CTL: Register = Register(BASE + 0x030);

const FR_RXFE: u32 = 1 << 4; // receive FIFO empty
const FR_TXFF: u32 = 1 << 5; // transmit FIFO full
const LCRH_FEN: u32 = 1 << 4; // FIFOs on: 16 bytes instead of 1, so the host can stream
const LCRH_WLEN_8: u32 = 0b11 << 5;
const CTL_ENABLE: u32 = 1 | (1 << 8) | (1 << 9); // UARTEN, TXE, RXE

/// UART0, 8N1 with FIFOs. QEMU ignores the baud rate.
pub struct Link(());

impl Link {
    /// Configures UART0; `None` if it was taken before.
    pub fn take() -> Option<Link> {
        if !super::first_take() {
            return None;
        }
        CTL.write(0);
        LCRH.write(LCRH_FEN | LCRH_WLEN_8);
        CTL.write(CTL_ENABLE);
        Some(Link(()))
    }
}

impl embedded_io::ErrorType for Link {
    type Error = Infallible;
}

impl embedded_io::Read for Link {
    /// Blocks for the first byte, then drains what the FIFO holds.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let mut n = 0;
        for slot in buf.iter_mut() {
            if FR.read() & FR_RXFE != 0 {
                if n > 0 {
                    break;
                }
                while FR.read() & FR_RXFE != 0 {}
            }
            // Bits 8-11 flag framing/parity/break/overrun errors; the frame's
            // COBS and postcard checks reject whatever such a byte broke.
            *slot = DR.read() as u8;
            n += 1;
        }
        Ok(n)
    }
}

impl embedded_io::Write for Link {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        for &b in buf {
            while FR.read() & FR_TXFF != 0 {}
            DR.write(u32::from(b));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}
