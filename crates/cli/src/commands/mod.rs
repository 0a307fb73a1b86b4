pub mod sandbox;
pub mod xpm_decode;
