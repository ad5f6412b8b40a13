// Package sourcecheck holds tests that read the module's own Go source
// for faults the compiler, go vet and staticcheck do not report: doc
// comments left above a declaration that is not theirs, and documents
// naming files of the module that do not exist.
package sourcecheck
