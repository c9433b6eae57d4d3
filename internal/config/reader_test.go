package config_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/config"
)

// TestReaderHasNoCopy: the read interface every room receives offers no
// deep copy of the whole settings dict (Get costs ~80 µs and ~550
// allocations a read); the typed Current, the shared View and String do.
func TestReaderHasNoCopy(t *testing.T) {
	rt := reflect.TypeFor[config.Reader]()
	if _, has := rt.MethodByName("Get"); has {
		t.Fatal("config.Reader has Get: rooms could deep-copy the settings per read")
	}
	for _, m := range []string{"Current", "View", "String"} {
		if _, has := rt.MethodByName(m); !has {
			t.Errorf("config.Reader lacks %s", m)
		}
	}
}

// TestRoomsReadWithoutCopy: no package under internal/ (but config) declares
// a settings interface with Get() map[string]any or indexes a Get() result
// (the deep copy per read the rooms moved off).
func TestRoomsReadWithoutCopy(t *testing.T) {
	root := ".."
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "config" || d.Name() == "testdata" || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.InterfaceType:
				for _, m := range x.Methods.List {
					ft, ok := m.Type.(*ast.FuncType)
					if !ok || len(m.Names) != 1 || m.Names[0].Name != "Get" || ft.Params.NumFields() != 0 ||
						ft.Results.NumFields() != 1 || !isStringAnyMap(ft.Results.List[0].Type) {
						continue
					}
					t.Errorf("%s: interface declares Get() map[string]any (use config.Reader: Current, View, String)", fset.Position(m.Pos()))
				}
			case *ast.IndexExpr:
				if c, ok := x.X.(*ast.CallExpr); ok && len(c.Args) == 0 {
					if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Get" && settingsLike(sel.X) {
						t.Errorf("%s: indexes a settings Get() (a deep copy per read)", fset.Position(x.Pos()))
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func isStringAnyMap(e ast.Expr) bool {
	m, ok := e.(*ast.MapType)
	if !ok {
		return false
	}
	k, ok1 := m.Key.(*ast.Ident)
	v, ok2 := m.Value.(*ast.Ident)
	return ok1 && ok2 && k.Name == "string" && v.Name == "any"
}

// settingsLike reports whether x names settings (r.d.Settings, s.Settings, settings).
func settingsLike(x ast.Expr) bool {
	switch v := x.(type) {
	case *ast.SelectorExpr:
		return strings.EqualFold(v.Sel.Name, "settings")
	case *ast.Ident:
		return strings.EqualFold(v.Name, "settings")
	}
	return false
}
