//! The boards the firmware runs on, one row each.
//!
//! The firmware's build script reads a row to check the target, write the
//! linker's `memory.x` from its memory map and find the driver
//! (`firmware/src/board/<name>.rs`, `-` written `_`); the host reads it to
//! boot a board's emulator (`--device emu:<name>`); xtask builds, tests and
//! measures every row. The name is also the board's cargo feature and what
//! `Info` reports.
//!
//! Adding a board takes three places: its row here, its driver, and its
//! feature line in `firmware/Cargo.toml`. Then `cargo xtask measure --images
//! 1000 --snapshot bless` adds its rows to the footprint gate
//! (`bench/snapshot.json`), and CI runs it like every other board.

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

/// Where a board's flash and RAM are, as the linker needs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryMap {
    /// Flash: origin and length in bytes.
    pub flash: (u32, u32),
    /// RAM: origin and length in bytes (the stack takes what statics leave).
    pub ram: (u32, u32),
    /// Bytes at the start of flash kept for an RP2040 second-stage bootloader
    /// (the `.boot2` section the board crate provides); 0 for none.
    pub boot2: u32,
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
    /// Its flash and RAM.
    pub memory: MemoryMap,
}

const K: u32 = 1024;

/// Every board, in the order tools list them.
pub const BOARDS: [Board; 4] = [
    Board {
        name: "lm3s6965evb",
        target: "thumbv7m-none-eabi",
        link: "UART0 (PL011 at 0x4000_C000)",
        emulator: Emulator::Qemu { machine: "lm3s6965evb", cpu: "cortex-m3", serial: 0 },
        int8_default: false,
        // TI Stellaris LM3S6965: 256 KB flash, 64 KB SRAM.
        memory: MemoryMap { flash: (0x0000_0000, 256 * K), ram: (0x2000_0000, 64 * K), boot2: 0 },
    },
    Board {
        name: "mps2-an386",
        target: "thumbv7em-none-eabihf",
        link: "UART0 (CMSDK at 0x4000_4000)",
        emulator: Emulator::Qemu { machine: "mps2-an386", cpu: "cortex-m4", serial: 0 },
        int8_default: false,
        // The board has 4 MB of code SSRAM at 0 and 4 MB of data SSRAM at 0x2000_0000; we allow
        // what a typical Cortex-M4 part has, so an image that fits here fits a real chip.
        memory: MemoryMap { flash: (0x0000_0000, 256 * K), ram: (0x2000_0000, 64 * K), boot2: 0 },
    },
    Board {
        name: "rp-pico",
        target: "thumbv6m-none-eabi",
        link: "USB CDC-ACM",
        emulator: Emulator::Rp2040js,
        // Soft float on real hardware: int8 runs about six times faster and takes half the flash.
        int8_default: true,
        // RP2040: 2 MB of external flash, its first 256 bytes the second-stage bootloader
        // (rp-pico provides it); 264 KB of SRAM, of which the 256 KB striped bank is used.
        memory: MemoryMap { flash: (0x1000_0000, 2048 * K), ram: (0x2000_0000, 256 * K), boot2: 0x100 },
    },
    Board {
        name: "netduinoplus2",
        target: "thumbv7em-none-eabihf",
        link: "USART6 on D0 (RX, PC7) and D1 (TX, PC6), 115200 8N1",
        emulator: Emulator::Qemu { machine: "netduinoplus2", cpu: "cortex-m4", serial: 5 },
        int8_default: false,
        // STM32F405RG: 1 MB of flash at 0x0800_0000 (aliased at 0 on boot), 128 KB of contiguous
        // SRAM (SRAM1 + SRAM2); the 64 KB of core-coupled RAM at 0x1000_0000 is left alone.
        memory: MemoryMap { flash: (0x0800_0000, 1024 * K), ram: (0x2000_0000, 128 * K), boot2: 0 },
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

impl MemoryMap {
    /// The linker script cortex-m-rt's `link.x` includes as `memory.x`.
    #[cfg(any(test, feature = "std"))]
    pub fn linker_script(&self) -> std::string::String {
        let (flash, ram) = (self.flash, self.ram);
        let mut script =
            std::string::String::from("/* Written by build.rs from the board's row in shared::boards. */\nMEMORY\n{\n");
        if self.boot2 > 0 {
            script += &std::format!("  BOOT2 : ORIGIN = {:#010x}, LENGTH = {:#x}\n", flash.0, self.boot2);
        }
        script += &std::format!(
            "  FLASH : ORIGIN = {:#010x}, LENGTH = {:#x}\n  RAM   : ORIGIN = {:#010x}, LENGTH = {:#x}\n}}\n",
            flash.0 + self.boot2,
            flash.1 - self.boot2,
            ram.0,
            ram.1
        );
        if self.boot2 > 0 {
            // The second-stage bootloader goes first in flash, before cortex-m-rt's vector table.
            script += "\nEXTERN(BOOT2_FIRMWARE)\n\nSECTIONS {\n  .boot2 ORIGIN(BOOT2) :\n  {\n    KEEP(*(.boot2));\n  } > BOOT2\n} INSERT BEFORE .text;\n";
        }
        script
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

    /// The Pico's script as its hand-written `memory.x` had it: boot2, then flash after it.
    #[test]
    fn linker_scripts_place_boot2_before_flash() {
        let pico = Board::by_name("rp-pico").unwrap().memory.linker_script();
        assert!(pico.contains("BOOT2 : ORIGIN = 0x10000000, LENGTH = 0x100\n"), "{pico}");
        assert!(pico.contains("FLASH : ORIGIN = 0x10000100, LENGTH = 0x1fff00\n"), "{pico}");
        assert!(pico.contains("KEEP(*(.boot2))"), "{pico}");
        let lm3s = Board::by_name("lm3s6965evb").unwrap().memory.linker_script();
        assert!(lm3s.contains("FLASH : ORIGIN = 0x00000000, LENGTH = 0x40000\n"), "{lm3s}");
        assert!(lm3s.contains("RAM   : ORIGIN = 0x20000000, LENGTH = 0x10000\n") && !lm3s.contains("BOOT2"), "{lm3s}");
    }
}
