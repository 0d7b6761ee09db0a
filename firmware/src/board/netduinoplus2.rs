//! USART6 of the Netduino Plus 2's STM32F405 — the board's D0 (RX, PC7) and
//! D1 (TX, PC6) — polled, 115200 8N1, on the 16 MHz internal oscillator the
//! chip starts on. No PLL set-up: nothing here needs the speed, and QEMU's
//! STM32F405 has no clock controller to report a PLL lock.
use super::Register;
use core::convert::Infallible;

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
const CR1_ENABLE: u32 = (1 << 13) | (1 << 3) | (1 << 2); // UE, TE, RE
/// 16 MHz / 115200 = 138.9: mantissa 8, fraction 11/16 (115,108 baud, 0.08 % off).
const BRR_115200_AT_16_MHZ: u32 = (8 << 4) | 11;

/// USART6, polled. It has a one-byte receive buffer.
pub struct Link(());

impl Link {
    /// Clocks and pins for USART6, then USART6 itself; `None` if it was taken before.
    pub fn take() -> Option<Link> {
        if !super::first_take() {
            return None;
        }
        RCC_AHB1ENR.set_bits(AHB1ENR_GPIOCEN);
        RCC_APB2ENR.set_bits(APB2ENR_USART6EN);
        GPIOC_AFRL.set_bits(AFRL_USART6_PC6_PC7);
        GPIOC_MODER.set_bits(MODER_ALTERNATE_PC6_PC7);
        BRR.write(BRR_115200_AT_16_MHZ);
        CR1.write(CR1_ENABLE);
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
            let mut status = SR.read();
            if status & SR_RXNE == 0 {
                if n > 0 {
                    break;
                }
                while status & (SR_RXNE | SR_ERRORS) == 0 {
                    status = SR.read();
                }
            }
            // Reading SR then DR clears RXNE and the error flags; a byte an error
            // broke is rejected by the frame's COBS and postcard checks.
            *slot = DR.read() as u8;
            n += 1;
        }
        Ok(n)
    }
}

impl embedded_io::Write for Link {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        for &b in buf {
            while SR.read() & SR_TXE == 0 {}
            DR.write(u32::from(b));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}
