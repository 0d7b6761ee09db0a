//! What the ten outputs mean: digits, or Fashion-MNIST's clothing classes.
//!
//! The network does not care; the weight file records the class set so every
//! tool that shows a prediction can name it.
use serde::{Deserialize, Serialize};

use crate::network::OUTPUT;

/// The meaning of the ten output classes; stored in the weight file header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Classes {
    /// Handwritten digits 0–9 (MNIST, Kaggle digit recognizer).
    #[default]
    Digits,
    /// Zalando's Fashion-MNIST clothing classes.
    Fashion,
}

/// Fashion-MNIST's class names, in label order.
const FASHION_NAMES: [&str; OUTPUT] =
    ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
const DIGIT_NAMES: [&str; OUTPUT] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

impl Classes {
    /// Byte value in the weight file header.
    pub const fn code(self) -> u8 {
        match self {
            Classes::Digits => 0,
            Classes::Fashion => 1,
        }
    }

    /// The class set stored as `code`, if it is one this build knows.
    pub const fn from_code(code: u8) -> Option<Classes> {
        match code {
            0 => Some(Classes::Digits),
            1 => Some(Classes::Fashion),
            _ => None,
        }
    }

    /// The ten class names, in label order.
    pub const fn names(self) -> &'static [&'static str; OUTPUT] {
        match self {
            Classes::Digits => &DIGIT_NAMES,
            Classes::Fashion => &FASHION_NAMES,
        }
    }

    /// The name of class `class`, or `"?"` outside 0–9.
    pub fn name(self, class: u8) -> &'static str {
        self.names().get(usize::from(class)).copied().unwrap_or("?")
    }
}

impl core::str::FromStr for Classes {
    type Err = &'static str;

    /// Parses `digits` or `fashion` (command-line spelling).
    fn from_str(s: &str) -> Result<Classes, Self::Err> {
        match s {
            "digits" => Ok(Classes::Digits),
            "fashion" => Ok(Classes::Fashion),
            _ => Err("expected `digits` or `fashion`"),
        }
    }
}

impl core::fmt::Display for Classes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Classes::Digits => "digits",
            Classes::Fashion => "fashion",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_round_trip() {
        for classes in [Classes::Digits, Classes::Fashion] {
            assert_eq!(Classes::from_code(classes.code()), Some(classes));
            assert_eq!(classes.to_string().parse::<Classes>(), Ok(classes));
        }
        assert_eq!(Classes::from_code(2), None);
        assert_eq!(Classes::Fashion.name(9), "Ankle boot");
        assert_eq!(Classes::Digits.name(7), "7");
        assert_eq!(Classes::Digits.name(10), "?");
    }
}
