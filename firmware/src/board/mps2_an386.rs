//! UART0 of the ARM MPS2 AN386 (a CMSDK APB UART), polled.
use super::Register;
use core::convert::Infallible;

const BASE: usize = 0x4000_4000;
const DATA: Register = Register(BASE);
const STATE: Register = Register(BASE + 0x004);
const CTRL: Register = Register(BASE + 0x008);
const BAUDDIV: Register = Register(BASE + 0x010);

const STATE_TX_FULL: u32 = 1 << 0;
const STATE_RX_FULL: u32 = 1 << 1;
const CTRL_TX_EN: u32 = 1 << 0;
const CTRL_RX_EN: u32 = 1 << 1;
/// QEMU's model stalls with a divider below 16.
const MIN_BAUDDIV: u32 = 16;

/// UART0, polled. It has a one-byte receive buffer.
pub struct Link(());

impl Link {
    /// Configures UART0; `None` if it was taken before.
    pub fn take() -> Option<Link> {
        if !super::first_take() {
            return None;
        }
        BAUDDIV.write(MIN_BAUDDIV);
        CTRL.write(CTRL_TX_EN | CTRL_RX_EN);
        Some(Link(()))
    }
}

impl embedded_io::ErrorType for Link {
    type Error = Infallible;
}

impl embedded_io::Read for Link {
    /// Blocks for the first byte, then takes whatever else is already there.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let mut n = 0;
        for slot in buf.iter_mut() {
            if STATE.read() & STATE_RX_FULL == 0 {
                if n > 0 {
                    break;
                }
                while STATE.read() & STATE_RX_FULL == 0 {}
            }
            *slot = DATA.read() as u8;
            n += 1;
        }
        Ok(n)
    }
}

impl embedded_io::Write for Link {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        for &b in buf {
            while STATE.read() & STATE_TX_FULL != 0 {}
            DATA.write(u32::from(b));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}
