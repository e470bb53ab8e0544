// Command broken does not compile, for the artifact tests.
package main

func main() {
	undefinedFunction()
}
