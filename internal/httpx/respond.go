package httpx

import (
	"encoding/json"
	"net/http"
)

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError writes the error body for status and msg.
func WriteError(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, NewBody(status, msg))
}

// WriteErr maps err through the vocabulary table and writes it.
func WriteErr(w http.ResponseWriter, err error) {
	st, msg := Status(err)
	WriteError(w, st, msg)
}
