//! stub
use crate::{AdqlError, Catalog, Parsed, Translation, UdfRegistry};
pub(crate) fn translate(_p: &Parsed, _c: &dyn Catalog, _u: &UdfRegistry) -> Result<Translation, AdqlError> {
    Err(AdqlError::new(crate::ErrorKind::Unsupported, "not yet"))
}
