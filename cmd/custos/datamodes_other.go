//go:build !linux

package main

// narrowModes narrows nothing but on Linux, where the walk uses O_PATH
// descriptors (datamodes_linux.go).
func narrowModes(dir string) (narrowed, failed []string) { return nil, nil }
