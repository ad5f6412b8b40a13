// Package typednil keeps a constructor's nil pointer out of an interface.
//
// A function that returns an interface by returning another's (*T, error)
// hands its caller a non-nil interface holding a nil *T when that call
// fails; a caller that cleans up whatever is not nil then calls a method
// on the nil pointer and panics, and the error it was about to report is
// lost. As returns a nil interface instead.
package typednil

// As returns v as the interface I, or I's zero value (a nil interface)
// when err is not nil. It panics if T does not implement I, which the
// compiler cannot check for a type parameter: a programming error, found
// by the first call.
func As[I any, T any](v T, err error) (I, error) {
	var zero I
	if err != nil {
		return zero, err
	}
	return any(v).(I), nil
}
