//! stand-in for iflib
