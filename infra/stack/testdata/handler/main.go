// Command handler stands in for the real responder in the program's tests,
// so they do not depend on the handler's state.
package main

func main() {}
