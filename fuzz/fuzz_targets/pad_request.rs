//! The drawing pad's requests (`tiny-mnist serve`), as `pad::reply` answers
//! them after the server has parsed the HTTP: any method, any path, any body.
//! Always a status with a body that says something (JSON where it says so),
//! never a panic.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pad::{reply, Method};
use trainer::model_file::Model;

fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| trainer::model_file::default_model().expect("the built-in model"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let method = [Method::Get, Method::Post, Method::Other][usize::from(selector % 3)];
    // The known paths most of the time, else the bytes up to the first newline.
    let (path, body) = match selector / 3 % 4 {
        0 => ("/".to_owned(), rest),
        1 | 2 => ("/classify".to_owned(), rest),
        _ => {
            let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            (String::from_utf8_lossy(&rest[..end]).into_owned(), rest.get(end + 1..).unwrap_or_default())
        }
    };
    let answer = reply(method, &path, body, model(), None);
    assert!(matches!(answer.status, 200 | 400 | 404 | 408), "status {}", answer.status);
    assert!(!answer.body.is_empty());
    if answer.content_type == "application/json" {
        let value: serde_json::Value = serde_json::from_str(&answer.body).expect("the JSON it says it sends");
        if answer.status == 200 {
            assert!(value["digit"].is_u64() || value["not_a_digit"].is_object(), "{value}");
        } else {
            assert!(value["error"].as_str().is_some_and(|e| !e.is_empty()), "{value}");
        }
    }
});
