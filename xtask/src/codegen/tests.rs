//! Tests of the table parser and the generator.

use super::*;

/// The generated code matches the tables (fails when a table was edited without regenerating).
#[test]
fn generated_code_is_fresh() {
    if let Err(e) = generate(&crate::project_root(), true) {
        panic!("{e}");
    }
}
