//! The boards the firmware runs on, one row each.
//!
//! The firmware's build script reads a row to check the target and find the
//! memory map (`firmware/memory/<name>.x`) and the driver
//! (`firmware/src/board/<name>.rs`, `-` written `_`); the host reads it to
//! boot a board's emulator (`--device emu:<name>`); xtask builds, tests and
//! measures every row. The name is also the board's cargo feature and what
//! `Info` reports. Adding a board: its driver, its memory map, one row here
//! and its cargo feature.

/// How CI (and `--device emu:<board>`) runs a board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emulator {
    /// `qemu-system-arm`: this machine and CPU, the firmware's serial port on stdio
    /// (QEMU's serial port number `serial`, counting from 0), semihosting for exit codes.
    Qemu {
        /// QEMU machine name.
        machine: &'static str,
        /// QEMU CPU model.
        cpu: &'static str,
        /// Which of the machine's serial ports the firmware uses.
        serial: u8,
    },
    /// The RP2040 emulator `rp2040js` under Node (`tools/rp2040-emu/`): USB CDC on stdio.
    Rp2040js,
}

/// One board the firmware supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Board {
    /// Its name on the command line, its cargo feature, and what `Info` reports.
    pub name: &'static str,
    /// The Rust target its firmware is built for.
    pub target: &'static str,
    /// The serial link, for people wiring the board up.
    pub link: &'static str,
    /// How it runs emulated.
    pub emulator: Emulator,
    /// Its default model is the int8 one (`models/default-int8.bin`), not the f32 one.
    pub int8_default: bool,
}

/// Every board, in the order tools list them.
pub const BOARDS: [Board; 4] = [
    Board {
        name: "lm3s6965evb",
        target: "thumbv7m-none-eabi",
        link: "UART0 (PL011 at 0x4000_C000)",
        emulator: Emulator::Qemu { machine: "lm3s6965evb", cpu: "cortex-m3", serial: 0 },
        int8_default: false,
    },
    Board {
        name: "mps2-an386",
        target: "thumbv7em-none-eabihf",
        link: "UART0 (CMSDK at 0x4000_4000)",
        emulator: Emulator::Qemu { machine: "mps2-an386", cpu: "cortex-m4", serial: 0 },
        int8_default: false,
    },
    Board {
        name: "rp-pico",
        target: "thumbv6m-none-eabi",
        link: "USB CDC-ACM",
        emulator: Emulator::Rp2040js,
        // Soft float on real hardware: int8 runs about six times faster and takes half the flash.
        int8_default: true,
    },
    Board {
        name: "netduinoplus2",
        target: "thumbv7em-none-eabihf",
        link: "USART6 on D0 (RX, PC7) and D1 (TX, PC6), 115200 8N1",
        emulator: Emulator::Qemu { machine: "netduinoplus2", cpu: "cortex-m4", serial: 5 },
        int8_default: false,
    },
];

impl Board {
    /// The board called `name`, if there is one.
    pub fn by_name(name: &str) -> Option<Board> {
        BOARDS.iter().copied().find(|b| b.name == name)
    }

    /// Whether its emulator lets panics and faults end the run through semihosting
    /// (QEMU): emulated builds then turn on the firmware's `semihosting` feature. On
    /// hardware with no debugger attached a semihosting call faults, so builds for a
    /// real board leave it off and reset the chip instead.
    pub fn emulator_has_semihosting(&self) -> bool {
        matches!(self.emulator, Emulator::Qemu { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_usable_as_cargo_features() {
        for (i, board) in BOARDS.iter().enumerate() {
            assert!(board.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            assert!(BOARDS.iter().skip(i + 1).all(|other| other.name != board.name), "{}", board.name);
            assert_eq!(Board::by_name(board.name), Some(*board));
        }
        assert_eq!(Board::by_name("nope"), None);
    }
}
