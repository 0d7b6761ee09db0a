//! A firmware image as an ELF file: read once here for everyone (its symbols,
//! its flash and RAM), and checked before an emulator boots it, so that a
//! wrong file gets a sentence instead of an emulator's register dump or a hard fault.
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{bail, Context, Result};
use object::{Object, ObjectSection, ObjectSymbol, SectionKind};
use shared::boards::{Board, BOARDS};

/// A firmware ELF file's bytes.
pub struct FirmwareImage {
    path: PathBuf,
    bytes: Vec<u8>,
}

/// Flash and static RAM of a firmware image.
pub struct Footprint {
    /// .vector_table + .text + .rodata + .data (its initial values live in flash).
    pub flash: u64,
    /// .data + .bss + .uninit; the stack takes the rest of RAM.
    pub ram: u64,
}

impl FirmwareImage {
    /// Reads `path`.
    pub fn read(path: &Path) -> Result<FirmwareImage> {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read firmware {}", path.display()))?;
        Ok(FirmwareImage { path: path.to_owned(), bytes })
    }

    /// The parsed ELF.
    pub fn elf(&self) -> Result<object::File<'_>> {
        object::File::parse(&*self.bytes).with_context(|| format!("{} is not an ELF file", self.path.display()))
    }

    /// Every named symbol and its address.
    pub fn symbols(&self) -> Result<Vec<(String, u64)>> {
        Ok(self.elf()?.symbols().filter_map(|s| Some((s.name().ok()?.to_owned(), s.address()))).collect())
    }

    /// The address of the function `name`, without the Thumb bit.
    pub fn function(&self, name: &str) -> Result<u64> {
        let elf = self.elf()?;
        let symbol = elf
            .symbols()
            .find(|s| s.name() == Ok(name))
            .with_context(|| format!("no symbol {name} in {}", self.path.display()))?;
        Ok(symbol.address() & !1)
    }

    /// Flash and static RAM, from the section sizes.
    pub fn footprint(&self) -> Result<Footprint> {
        let elf = self.elf()?;
        let size = |names: &[&str]| -> u64 {
            elf.sections().filter(|s| s.name().is_ok_and(|n| names.contains(&n))).map(|s| s.size()).sum()
        };
        Ok(Footprint {
            flash: size(&[".vector_table", ".text", ".rodata", ".data"]),
            ram: size(&[".data", ".bss", ".uninit"]),
        })
    }
}

/// Checks that `path` is a tiny-mnist firmware ELF built for `board`.
///
/// Each build carries its board's name (the `Info` answer), and only its own:
/// the names found in the image's loaded sections say which board it is for.
pub fn check(board: &Board, path: &Path) -> Result<()> {
    let rebuild = format!("build it with `cargo xtask firmware --board {}`", board.name);
    let image = FirmwareImage::read(path)?;
    let Ok(elf) = image.elf() else {
        bail!("{} is not a firmware image (not an ELF file); {rebuild}", path.display());
    };
    if elf.architecture() != object::Architecture::Arm {
        bail!("{} is an ELF file for {:?}, not Arm Cortex-M firmware; {rebuild}", path.display(), elf.architecture());
    }
    let loaded = elf
        .sections()
        .filter(|s| matches!(s.kind(), SectionKind::ReadOnlyData | SectionKind::ReadOnlyString | SectionKind::Data));
    let mut data = Vec::new();
    for section in loaded {
        data.extend_from_slice(section.data().unwrap_or_default());
    }
    let named = |b: &&Board| data.windows(b.name.len()).any(|w| w == b.name.as_bytes());
    let found: Vec<&Board> = BOARDS.iter().filter(named).collect();
    match found.as_slice() {
        [only] if only.name == board.name => Ok(()),
        [other] => bail!("{} is the firmware for {}, not {}; {rebuild}", path.display(), other.name, board.name),
        _ => bail!("{} is not tiny-mnist firmware for {} (no board name in it); {rebuild}", path.display(), board.name),
    }
}

/// Sources a firmware build depends on, relative to the checkout.
const FIRMWARE_INPUTS: [&str; 5] =
    ["firmware/src", "firmware/build.rs", "firmware/Cargo.toml", "firmware/model/exported.bin", "shared/src"];

/// The newest of the firmware's inputs in `checkout` if it is newer than the
/// image at `elf`: the image is stale and no longer what a build would give.
pub fn newer_input(checkout: &Path, elf: &Path) -> Option<PathBuf> {
    let built = std::fs::metadata(elf).and_then(|m| m.modified()).ok()?;
    let mut newest: Option<(SystemTime, PathBuf)> = None;
    let mut pending: Vec<PathBuf> = FIRMWARE_INPUTS.iter().map(|p| checkout.join(p)).collect();
    while let Some(path) = pending.pop() {
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        if meta.is_dir() {
            pending.extend(std::fs::read_dir(&path).into_iter().flatten().flatten().map(|e| e.path()));
        } else if let Ok(modified) = meta.modified() {
            if newest.as_ref().is_none_or(|(t, _)| modified > *t) {
                newest = Some((modified, path));
            }
        }
    }
    newest.filter(|(t, _)| *t > built).map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An image is stale once any of the firmware's inputs is newer.
    #[test]
    fn a_newer_source_makes_the_image_stale() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("firmware/src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("main.rs"), "").unwrap();
        let elf = dir.path().join("firmware.elf");
        std::fs::write(&elf, "").unwrap();
        let later = SystemTime::now() + std::time::Duration::from_secs(60);
        assert_eq!(newer_input(dir.path(), &elf), None);
        std::fs::File::options().write(true).open(src.join("main.rs")).unwrap().set_modified(later).unwrap();
        assert_eq!(newer_input(dir.path(), &elf), Some(src.join("main.rs")));
    }
}
