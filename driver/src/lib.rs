//! ravf: the core of a driver for Intel Ethernet 700-series Virtual Functions.
//!
//! `no_std`, no `unsafe`, no floating point, no allocation on the data path. All
//! hardware access goes through the traits in [`os`].
#![no_std]
#![forbid(unsafe_code)]

pub mod os;
