// Package wire is the agent protocol shared by the NOBA server and the
// noba-agent binary: the message types of the agent WebSocket, the command
// catalogue with its risk tiers and parameter rules, the report fields, and
// the identifiers (hostnames, command and transfer ids) both sides validate.
//
// Messages keep the flat JSON shape of the established agent protocol
// ({"type":"command","id":..,"cmd":..,"params":{..}}) so that agents of the
// established server can talk to this one.
package wire
