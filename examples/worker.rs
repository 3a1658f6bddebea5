//! Placeholder: the inbox worker example (written in a later commit).
fn main() {}
