//! What a host operating system reads when the Pico is plugged in: the
//! emulated USB host enumerates the firmware in rp2040js the way Linux does
//! (8-byte control packets, status stages, strings in US English) and reports
//! the descriptors, which must make it a CDC-ACM serial port that `cdc_acm`,
//! macOS and Windows bind without a driver.
use board::device::EmulatedBoard;
use e2e::{board, firmware_with};
use serde_json::Value;

#[test]
#[ignore = "needs Node, tools/rp2040-emu's packages and the thumb targets; run by `cargo xtask ci`"]
fn pico_enumerates_as_a_cdc_acm_serial_port() {
    let pico = board("rp-pico");
    let elf = firmware_with(&pico, &board::paths::repo_root().join("models/default-int8.bin"), "int8");
    let out = pico
        .emulator_command(&elf, &["--describe".into()])
        .unwrap()
        .output()
        .expect("run the RP2040 emulator (is Node installed?)");
    assert!(out.status.success(), "enumeration failed: {}", String::from_utf8_lossy(&out.stderr));
    let usb: Value = serde_json::from_slice(&out.stdout).expect("the emulator prints JSON");
    println!("{usb}");

    // pid.codes' shared VID/PID for CDC-ACM test devices, and the strings a user sees in `lsusb`.
    assert_eq!(usb["vendor_id"], 0x16c0);
    assert_eq!(usb["product_id"], 0x27dd);
    assert_eq!(usb["manufacturer"], "tiny-mnist");
    assert_eq!(usb["product"], "digit classifier");
    assert_eq!(usb["serial_number"], "0001");
    assert_eq!(usb["device_class"], 2, "communications device class at device level");
    assert_eq!(usb["configurations"], 1);

    let interfaces = usb["interfaces"].as_array().expect("interfaces");
    assert_eq!(interfaces.len(), 2, "a communications interface and a data interface");
    let (control, data) = (&interfaces[0], &interfaces[1]);
    // Communications interface, abstract control model: what makes it a serial port.
    assert_eq!((&control["class"], &control["subclass"]), (&Value::from(2), &Value::from(2)));
    let notify = control["endpoints"].as_array().expect("endpoints");
    assert_eq!(notify.len(), 1);
    assert_eq!((&notify[0]["direction"], &notify[0]["type"]), (&Value::from("in"), &Value::from("interrupt")));
    // Data interface: one bulk endpoint each way, full-speed 64-byte packets.
    assert_eq!(data["class"], 10);
    let bulk = data["endpoints"].as_array().expect("endpoints");
    let mut directions: Vec<_> = bulk
        .iter()
        .map(|e| {
            assert_eq!(e["type"], "bulk");
            assert_eq!(e["max_packet"], 64);
            e["direction"].as_str().expect("direction").to_owned()
        })
        .collect();
    directions.sort();
    assert_eq!(directions, ["in", "out"]);
}
