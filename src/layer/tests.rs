//! Behaviour tests of the verifying service.
