//! UART0 of the ARM MPS2 AN386 (a CMSDK APB UART), polled.
use super::{Polled, PolledUart, Register};

const BASE: usize = 0x4000_4000;
const DATA: Register = Register(BASE);
const STATE: Register = Register(BASE + 0x004);
const CTRL: Register = Register(BASE + 0x008);
const INTSTATUS: Register = Register(BASE + 0x00C);
const BAUDDIV: Register = Register(BASE + 0x010);

const STATE_TX_FULL: u32 = 1 << 0;
const STATE_RX_FULL: u32 = 1 << 1;
const CTRL_TX_EN: u32 = 1 << 0;
const CTRL_RX_EN: u32 = 1 << 1;
const CTRL_RX_INT_EN: u32 = 1 << 3;
const INT_RX: u32 = 1 << 1; // write 1 to clear
/// QEMU's model stalls with a divider below 16.
const MIN_BAUDDIV: u32 = 16;

/// UART0. It has a one-byte receive buffer.
pub struct Uart0(());

/// The link to the host.
pub type Link = Polled<Uart0>;

impl PolledUart for Uart0 {
    /// UART 0's receive interrupt (AN386's interrupt map).
    const RX_IRQ: u32 = 0;

    fn init() -> Self {
        BAUDDIV.write(MIN_BAUDDIV);
        CTRL.write(CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INT_EN);
        Uart0(())
    }

    /// The CMSDK UART latches its receive interrupt until it is written off.
    fn clear_rx_interrupt(&self) {
        INTSTATUS.write(INT_RX);
    }

    fn receive(&self) -> Option<u8> {
        (STATE.read() & STATE_RX_FULL != 0).then(|| DATA.read() as u8)
    }

    fn can_send(&self) -> bool {
        STATE.read() & STATE_TX_FULL == 0
    }

    fn send(&self, byte: u8) {
        DATA.write(u32::from(byte));
    }
}
