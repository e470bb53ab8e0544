// Package emulator runs the stand-ins that the tests and the demo use in
// place of AWS: moto_server, the AWS API emulator, and the AWS Lambda Runtime
// Interface Emulator running the real compiled bootstrap. Everything listens
// on loopback ports chosen at start, so that several can run side by side.
package emulator
