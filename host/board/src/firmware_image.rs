//! A firmware image checked before an emulator boots it, so that a wrong file
//! gets a sentence instead of an emulator's register dump or a hard fault.
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{bail, Context, Result};
use object::{Object, ObjectSection, SectionKind};
use shared::boards::{Board, BOARDS};

/// Checks that `path` is a tiny-mnist firmware ELF built for `board`.
///
/// Each build carries its board's name (the `Info` answer), and only its own:
/// the names found in the image's loaded sections say which board it is for.
pub fn check(board: &Board, path: &Path) -> Result<()> {
    let rebuild = format!("build it with `cargo xtask firmware --board {}`", board.name);
    let bytes = std::fs::read(path).with_context(|| format!("cannot read firmware {}", path.display()))?;
    let Ok(elf) = object::File::parse(&*bytes) else {
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
