// TEMP-STUB
pub fn load_rgb(_p: &std::path::Path) -> Result<crate::preprocess::Image, crate::Error> {
    Err(crate::Error::shape("stub"))
}
