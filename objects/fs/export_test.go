package fs

// ForeignXattr is foreignXattr, for the tests.
var ForeignXattr = foreignXattr
