// Command hello is a stand-in Lambda handler for the artifact tests.
package main

import "fmt"

func main() {
	fmt.Println("hello from the test handler")
}
