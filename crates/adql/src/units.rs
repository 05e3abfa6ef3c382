//! VOUnit conversions for IN_UNIT. Being written.
