//! A guard for every firmware, the soft-float ones above all: the floating-point
//! routines an ELF links are read from its symbols, and every one must be on
//! the reviewed list below, whose entries say why each gives the host's bits.
//! A new board, a HAL feature or a dependency update that brings in another
//! routine (the RP2040 HAL's bootrom float functions, say, which round
//! `f32 as i32` toward −∞) fails here before any parity run.
//!
//! On the Pico, each linked routine is then called on the emulated Cortex-M0+
//! with hundreds of thousands of operands and compared with the host's own
//! arithmetic, bit for bit.
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use board::device::BOARDS;
use e2e::{board, firmware_with};
use rand::{Rng, SeedableRng};

/// Every floating-point routine a firmware may link, and why it is exact.
const REVIEWED: &[(&str, &str)] = &[
    // compiler-builtins: Rust's port of LLVM compiler-rt, the compiler's own soft-float library.
    // IEEE-754 binary32, round to nearest even, as the host's SSE unit.
    ("__aeabi_fadd", "compiler-builtins; checked on the M0+ against the host (pico_routines_match_the_host)"),
    ("__aeabi_fsub", "compiler-builtins; checked on the M0+ against the host"),
    ("__aeabi_fmul", "compiler-builtins; checked on the M0+ against the host"),
    ("__aeabi_fdiv", "compiler-builtins; checked on the M0+ against the host"),
    ("__aeabi_fcmpge", "compiler-builtins; checked on the M0+ against the host"),
    ("__aeabi_fcmpgt", "compiler-builtins; checked on the M0+ against the host"),
    ("__aeabi_fcmpun", "compiler-builtins; checked on the M0+ against the host"),
    ("__aeabi_f2iz", "compiler-builtins; truncates and saturates as Rust's `as i32`; checked on the M0+"),
    ("__aeabi_i2f", "compiler-builtins; checked on the M0+ against the host"),
    ("__aeabi_l2f", "compiler-builtins; checked on the M0+ against the host"),
    ("__aeabi_ui2f", "compiler-builtins; the int8 softmax's one float step; checked on the M0+ against the host"),
    ("compiler_builtins::__addsf3", "the body of __aeabi_fadd and __aeabi_fsub"),
    ("compiler_builtins::__mulsf3", "the body of __aeabi_fmul"),
    ("compiler_builtins::__divsf3", "the body of __aeabi_fdiv"),
    // The network's own.
    ("libm::expf", "the same Rust source as the host's; checked on the M0+ against the host's libm::expf"),
];

/// What a symbol names, if it is a floating-point routine: an EABI or GCC
/// soft-float entry point, compiler-builtins' float module, libm, or a vendor's
/// float or bootrom routine (never acceptable: named so that it fails).
fn float_routine(symbol: &str) -> Option<String> {
    if let Some(rest) = symbol.strip_prefix("__aeabi_") {
        let float = rest.starts_with('f') || rest.starts_with('d') || rest.ends_with("2f") || rest.ends_with("2d");
        return float.then(|| symbol.to_owned());
    }
    if let Some(rest) = symbol.strip_prefix("__") {
        let gcc_style = rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if gcc_style && (rest.contains("sf") || rest.contains("df")) {
            return Some(symbol.to_owned());
        }
    }
    let last = last_identifier(symbol);
    if symbol.contains("17compiler_builtins5float") {
        return Some(format!("compiler_builtins::{last}"));
    }
    if symbol.contains("4libm") {
        return Some(format!("libm::{last}"));
    }
    if symbol.contains("rp2040_hal") && (symbol.contains("5float") || symbol.contains("8rom_data")) {
        return Some(format!("rp2040_hal (bootrom): {symbol}"));
    }
    None
}

/// The last length-prefixed identifier of a mangled Rust name (legacy `_ZN…E`
/// or v0 `_R…`), hash left out.
fn last_identifier(symbol: &str) -> String {
    let v0 = symbol.starts_with("_R");
    let bytes = symbol.as_bytes();
    let (mut i, mut last) = (0, String::new());
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let len: usize = symbol[start..i].parse().unwrap_or(0);
            // v0 separates an identifier that starts with `_` or a digit from its length by `_`.
            if v0 && bytes.get(i) == Some(&b'_') {
                i += 1;
            }
            if len > 0 && i + len <= bytes.len() {
                let ident = &symbol[i..i + len];
                let hash = ident.len() == 17 && ident.starts_with('h');
                if !hash && ident.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    last = ident.to_owned();
                }
                i += len;
                continue;
            }
        }
        i += 1;
    }
    last
}

fn symbols(elf: &Path) -> Vec<(String, u64)> {
    board::firmware_image::FirmwareImage::read(elf).and_then(|image| image.symbols()).expect("read the ELF's symbols")
}

fn float_routines(elf: &Path) -> BTreeSet<String> {
    symbols(elf).iter().filter_map(|(name, _)| float_routine(name)).collect()
}

fn models() -> [(&'static str, std::path::PathBuf); 2] {
    let root = board::paths::repo_root();
    [("f32", root.join("models/default.bin")), ("int8", root.join("models/default-int8.bin"))]
}

#[test]
fn symbols_are_classified() {
    assert_eq!(float_routine("__aeabi_fadd").as_deref(), Some("__aeabi_fadd"));
    assert_eq!(float_routine("__aeabi_l2f").as_deref(), Some("__aeabi_l2f"));
    assert_eq!(float_routine("__aeabi_uidiv"), None);
    assert_eq!(float_routine("__aeabi_memcpy4"), None);
    assert_eq!(float_routine("__fixsfsi").as_deref(), Some("__fixsfsi"));
    assert_eq!(
        float_routine("_RNvNtNtCsjc7sn2q0iDy_17compiler_builtins5float3add8___addsf3").as_deref(),
        Some("compiler_builtins::__addsf3")
    );
    assert_eq!(float_routine("_ZN4libm4math4expf4expf17h2e4dfdb17724b176E").as_deref(), Some("libm::expf"));
    let rom = "_ZN10rp2040_hal8rom_data11float_funcs4fadd3ptr17h2c66d397d12a6bf7E";
    assert!(float_routine(rom).is_some_and(|r| r.starts_with("rp2040_hal")));
    assert_eq!(float_routine("_ZN8firmware3app11device_info17h6a0e13f9d31df69dE"), None);
}

#[test]
#[ignore = "needs the thumb targets; run by `cargo xtask ci`"]
fn every_float_routine_a_firmware_links_is_reviewed() {
    let reviewed: BTreeSet<&str> = REVIEWED.iter().map(|(name, _)| *name).collect();
    let mut unreviewed = Vec::new();
    for board in BOARDS {
        for (kind, model) in models() {
            let elf = firmware_with(&board, &model, kind);
            let routines = float_routines(&elf);
            println!("{} {kind}: {}", board.name, routines.iter().cloned().collect::<Vec<_>>().join(" "));
            for routine in routines.iter().filter(|r| !reviewed.contains(r.as_str())) {
                unreviewed.push(format!("{} ({kind}): {routine}", board.name));
            }
        }
    }
    assert!(
        unreviewed.is_empty(),
        "floating-point routines nobody has shown to give the host's bits:\n{}\n\
         Check each against the host (see pico_routines_match_the_host), then add it to REVIEWED.",
        unreviewed.join("\n")
    );
}

/// Calls `symbol` in `elf` on the emulated M0+ once per record (r0, r1); returns each r0.
fn call_on_m0plus(elf: &Path, symbol: &str, records: &[(u32, u32)]) -> Vec<u32> {
    let script = board::paths::repo_root().join("tools/rp2040-emu/call.mjs");
    let mut child = Command::new("node")
        .arg(script)
        .arg(elf)
        .arg(symbol)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run node");
    let input: Vec<u8> = records.iter().flat_map(|&(a, b)| [a.to_le_bytes(), b.to_le_bytes()]).flatten().collect();
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("call.mjs");
    writer.join().expect("writer").expect("write records");
    assert!(out.status.success(), "call.mjs {symbol} failed");
    out.stdout.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// Values where float arithmetic has its corners: signed zeros, subnormals,
/// the normal range's ends, infinities, NaNs, values around 1 and rounding ties.
fn edge_values() -> Vec<u32> {
    let mut v = vec![
        0x0000_0000,
        0x8000_0000,
        0x0000_0001,
        0x8000_0001,
        0x007f_ffff,
        0x807f_ffff,
        0x0080_0000,
        0x8080_0000,
        0x7f7f_ffff,
        0xff7f_ffff,
        0x7f80_0000,
        0xff80_0000,
        0x7fc0_0000,
        0xffc0_0000,
        0x7f80_0001,
        0x3f80_0000,
        0xbf80_0000,
        0x3f80_0001,
        0x3f7f_ffff,
        0x3f00_0000,
        0x4000_0000,
        0x4b00_0000,
        0x4b80_0000,
        0x4effffff,
        0x4f00_0000,
        0xcf00_0000,
        0xcf00_0001,
        0x5f00_0000,
        0x42b1_7218,
        0xc2ce_8ed0,
        0x42b2_0000,
        0xc2d0_0000,
        0x3380_0000,
        0x3400_0000,
        0x0040_0000,
        0x0100_0000,
    ];
    v.extend(v.clone().iter().map(|x| x ^ 0x8000_0000));
    v.sort_unstable();
    v.dedup();
    v
}

/// Operand pairs: every pair of edge values, random bit patterns (every class
/// of value), and random normal numbers with nearby exponents, where addition
/// cancels and every alignment shift and rounding case comes up.
fn operand_pairs(rng: &mut impl Rng, random: usize) -> Vec<(u32, u32)> {
    let edges = edge_values();
    let mut pairs: Vec<(u32, u32)> = edges.iter().flat_map(|&a| edges.iter().map(move |&b| (a, b))).collect();
    for _ in 0..random {
        let a: u32 = rng.gen();
        let b = if rng.gen_bool(0.5) {
            rng.gen()
        } else {
            // Same sign or not, exponent within ±26 of a's, clamped to the normal range.
            let exp = (((a >> 23) & 0xff) as i32 + rng.gen_range(-26..=26)).clamp(1, 254) as u32;
            (rng.gen::<u32>() & 0x807f_ffff) | (exp << 23)
        };
        pairs.push((a, b));
    }
    pairs
}

fn same_float(host: f32, device: u32) -> bool {
    // NaN payloads are not part of the contract (the network never makes a NaN); NaN-ness is.
    host.to_bits() == device || (host.is_nan() && f32::from_bits(device).is_nan())
}

/// Checks one routine on every record; prints and returns how many were compared.
fn check(elf: &Path, symbol: &str, records: &[(u32, u32)], host: impl Fn(u32, u32) -> u32, float_result: bool) {
    let device = call_on_m0plus(elf, symbol, records);
    assert_eq!(device.len(), records.len(), "{symbol}: one result per record");
    let mut wrong = 0;
    for (&(a, b), &d) in records.iter().zip(&device) {
        let h = host(a, b);
        let ok = if float_result { same_float(f32::from_bits(h), d) } else { h == d };
        if !ok {
            if wrong < 5 {
                eprintln!("{symbol}({a:#010x}, {b:#010x}): host {h:#010x}, M0+ {d:#010x}");
            }
            wrong += 1;
        }
    }
    println!("{symbol}: {}/{} results equal to the host's", records.len() - wrong, records.len());
    assert_eq!(wrong, 0, "{symbol} differs from the host on {wrong} of {} inputs", records.len());
}

#[test]
#[ignore = "needs Node, tools/rp2040-emu's packages and the thumb targets; run by `cargo xtask ci`"]
fn pico_routines_match_the_host() {
    let pico = board("rp-pico");
    // The f32 build links the float arithmetic and expf; the int8 build (integer softmax) only __aeabi_ui2f.
    for (kind, model) in &models() {
        let elf = firmware_with(&pico, model, kind);
        routines_match_the_host(&elf);
    }
}

/// Calls every float routine `elf` links on the emulated M0+ and compares with the host.
fn routines_match_the_host(elf: &Path) {
    let linked = float_routines(elf);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let pairs = operand_pairs(&mut rng, 300_000);
    let f = f32::from_bits;
    let mut checked = BTreeSet::new();
    let mut run = |symbol: &str, records: &[(u32, u32)], host: &dyn Fn(u32, u32) -> u32, float_result: bool| {
        if linked.contains(symbol) {
            check(elf, symbol, records, host, float_result);
            checked.insert(symbol.to_owned());
        }
    };
    run("__aeabi_fadd", &pairs, &|a, b| (f(a) + f(b)).to_bits(), true);
    run("__aeabi_fsub", &pairs, &|a, b| (f(a) - f(b)).to_bits(), true);
    run("__aeabi_fmul", &pairs, &|a, b| (f(a) * f(b)).to_bits(), true);
    run("__aeabi_fdiv", &pairs, &|a, b| (f(a) / f(b)).to_bits(), true);
    run("__aeabi_fcmpge", &pairs, &|a, b| u32::from(f(a) >= f(b)), false);
    run("__aeabi_fcmpgt", &pairs, &|a, b| u32::from(f(a) > f(b)), false);
    run("__aeabi_fcmpun", &pairs, &|a, b| u32::from(f(a).is_nan() || f(b).is_nan()), false);
    run("__aeabi_f2iz", &pairs, &|a, _| (f(a) as i32) as u32, false);
    // Integers of every magnitude: a random value shifted right by a random amount.
    let integers: Vec<(u32, u32)> = (0..300_000)
        .map(|_| {
            let x: u64 = rng.gen::<u64>() >> rng.gen_range(0..64);
            let x = if rng.gen_bool(0.5) { x.wrapping_neg() } else { x };
            (x as u32, (x >> 32) as u32)
        })
        .chain([(0, 0), (1, 0), (u32::MAX, u32::MAX), (0, 0x8000_0000), (u32::MAX, 0x7fff_ffff), (0x8000_0000, 0)])
        .collect();
    run("__aeabi_i2f", &integers, &|lo, _| (lo as i32 as f32).to_bits(), true);
    run("__aeabi_ui2f", &integers, &|lo, _| (lo as f32).to_bits(), true);
    run("__aeabi_l2f", &integers, &|lo, hi| ((u64::from(hi) << 32 | u64::from(lo)) as i64 as f32).to_bits(), true);
    // expf: the softmax's range (max subtracted, so ≤ 0), the whole domain, and every bit pattern.
    let exp_inputs: Vec<(u32, u32)> = (0..200_000)
        .map(|i| match i % 3 {
            0 => (rng.gen_range(-104.0f32..=0.0).to_bits(), 0),
            1 => (rng.gen_range(-110.0f32..=90.0).to_bits(), 0),
            _ => (rng.gen(), 0),
        })
        .chain(edge_values().into_iter().map(|x| (x, 0)))
        .collect();
    let expf_symbol = symbols(elf)
        .into_iter()
        .find(|(name, _)| float_routine(name).as_deref() == Some("libm::expf"))
        .map(|(name, _)| name);
    if let Some(expf_symbol) = expf_symbol {
        check(elf, &expf_symbol, &exp_inputs, |a, _| libm::expf(f(a)).to_bits(), true);
        checked.insert("libm::expf".into());
    }
    // The compiler-builtins bodies are reached through the entry points above.
    for body in ["compiler_builtins::__addsf3", "compiler_builtins::__mulsf3", "compiler_builtins::__divsf3"] {
        checked.insert(body.into());
    }
    let unchecked: Vec<_> = linked.difference(&checked).collect();
    assert!(unchecked.is_empty(), "routines the Pico links that this test does not check: {unchecked:?}");
}
