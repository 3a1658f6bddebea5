//! Small macros shared by the crate's middleware.

/// Generates `get_ref`, `get_mut` and `into_inner` for a middleware whose wrapped service
/// is the field `inner` (the accessors every tower-http middleware has).
#[allow(unused_macros)] // Unused when no middleware feature is on.
macro_rules! define_inner_service_accessors {
    () => {
        /// The wrapped service.
        pub fn get_ref(&self) -> &S {
            &self.inner
        }

        /// The wrapped service, mutably.
        pub fn get_mut(&mut self) -> &mut S {
            &mut self.inner
        }

        /// Consumes `self`, returning the wrapped service.
        pub fn into_inner(self) -> S {
            self.inner
        }
    };
}

#[allow(unused_imports)] // Unused when no middleware feature is on.
pub(crate) use define_inner_service_accessors;
