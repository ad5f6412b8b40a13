//go:build !unix

package main

// narrowModes narrows nothing where there are no Unix permissions.
func narrowModes(dir string) (narrowed, failed []string) { return nil, nil }
