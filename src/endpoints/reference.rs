#![doc = include_str!("../../generated/reference.md")]
