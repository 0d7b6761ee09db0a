//! USART6 of the Netduino Plus 2's STM32F405 — the board's D0 (RX, PC7) and
//! D1 (TX, PC6) — polled, 115200 8N1, on the 16 MHz internal oscillator the
//! chip starts on. No PLL set-up: nothing here needs the speed, and QEMU's
//! STM32F405 has no clock controller to report a PLL lock.
use super::{Polled, PolledUart, Register};

const RCC: usize = 0x4002_3800;
const RCC_AHB1ENR: Register = Register(RCC + 0x30);
const RCC_APB2ENR: Register = Register(RCC + 0x44);
const AHB1ENR_GPIOCEN: u32 = 1 << 2;
const APB2ENR_USART6EN: u32 = 1 << 5;

const GPIOC: usize = 0x4002_0800;
const GPIOC_MODER: Register = Register(GPIOC);
const GPIOC_AFRL: Register = Register(GPIOC + 0x20);
const MODER_ALTERNATE_PC6_PC7: u32 = (0b10 << 12) | (0b10 << 14);
const AFRL_USART6_PC6_PC7: u32 = (8 << 24) | (8 << 28); // AF8

const USART6: usize = 0x4001_1400;
const SR: Register = Register(USART6);
const DR: Register = Register(USART6 + 0x04);
const BRR: Register = Register(USART6 + 0x08);
const CR1: Register = Register(USART6 + 0x0C);
const SR_RXNE: u32 = 1 << 5; // a byte has arrived
const SR_TXE: u32 = 1 << 7; // the data register can take a byte
const SR_ERRORS: u32 = 0b1111; // parity, framing, noise, overrun
const CR1_ENABLE: u32 = (1 << 13) | (1 << 5) | (1 << 3) | (1 << 2); // UE, RXNEIE, TE, RE
/// 16 MHz / 115200 = 138.9: mantissa 8, fraction 11/16 (115,108 baud, 0.08 % off).
const BRR_115200_AT_16_MHZ: u32 = (8 << 4) | 11;

/// USART6. It has a one-byte receive buffer.
pub struct Usart6(());

/// The link to the host.
pub type Link = Polled<Usart6>;

impl PolledUart for Usart6 {
    /// USART6's global interrupt on the STM32F405 (raised while RXNE is set).
    const RX_IRQ: u32 = 71;

    /// Clocks and pins for USART6, then USART6 itself.
    fn init() -> Self {
        RCC_AHB1ENR.set_bits(AHB1ENR_GPIOCEN);
        RCC_APB2ENR.set_bits(APB2ENR_USART6EN);
        GPIOC_AFRL.set_bits(AFRL_USART6_PC6_PC7);
        GPIOC_MODER.set_bits(MODER_ALTERNATE_PC6_PC7);
        BRR.write(BRR_115200_AT_16_MHZ);
        CR1.write(CR1_ENABLE);
        Usart6(())
    }

    fn receive(&self) -> Option<u8> {
        // Reading SR then DR clears RXNE and the error flags.
        (SR.read() & (SR_RXNE | SR_ERRORS) != 0).then(|| DR.read() as u8)
    }

    fn can_send(&self) -> bool {
        SR.read() & SR_TXE != 0
    }

    fn send(&self, byte: u8) {
        DR.write(u32::from(byte));
    }
}
