//go:build ncruces

package main

import (
	_ "github.com/ncruces/go-sqlite3/driver"
	_ "github.com/ncruces/go-sqlite3/embed"
)

func init() {
	driverName, label = "sqlite3", "ncruces"
	dsn = func(path string) string {
		return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_txlock=immediate"
	}
}
