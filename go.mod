module github.com/xphone-go/xphone

go 1.25
