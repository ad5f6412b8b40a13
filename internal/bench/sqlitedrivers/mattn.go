//go:build mattn

package main

import _ "github.com/mattn/go-sqlite3"

func init() {
	driverName, label = "sqlite3", "mattn"
	dsn = func(path string) string {
		return "file:" + path + "?_busy_timeout=10000&_synchronous=FULL&_txlock=immediate"
	}
}
