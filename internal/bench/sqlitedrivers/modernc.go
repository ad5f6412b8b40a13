//go:build modernc

package main

import _ "modernc.org/sqlite"

func init() {
	driverName, label = "sqlite", "modernc"
	dsn = func(path string) string {
		return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_txlock=immediate"
	}
}
