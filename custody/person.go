package custody

import (
	"strings"

	"github.com/custos-vault/custos/events"
)

// NamesPerson reports whether ev belongs to a person's history, as an
// auditor reads it (custos audit log --person, the web's person history):
// it is by them (its actor, refused attempts included), or its data
// names them as the person a person.* event is about (name), the person
// assigned or asked about (person), the person a package is for (for),
// or who asked for a decision (requested_by). A data member that does
// not decode by the grammar of docs/custody-log.md section 12 names
// nobody.
func NamesPerson(ev *events.Event, name string) bool {
	if ev.Actor.Person == name {
		return true
	}
	var d struct {
		Name        string `json:"name"`
		Person      string `json:"person"`
		For         string `json:"for"`
		RequestedBy string `json:"requested_by"`
	}
	if ev.DecodeData(&d) != nil {
		return false
	}
	return d.Name == name && strings.HasPrefix(ev.Type, "person.") || d.Person == name || d.For == name || d.RequestedBy == name
}
