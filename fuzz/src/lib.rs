//! Fuzz targets for ledgerhook; see `README.md`. The target bodies live in [`targets`].

pub mod targets;
