// Command gotypes-schema writes the Go type schema that the Python plugin uses
// to reproduce Go's typed JSON round trip and Go template field access.
//
// Run it from this directory with `go run .`; it rewrites
// ../../kubectl_inject/gotypes/schema/k8s.json and mesh.json. The module
// versions are pinned in go.mod to what Istio 1.22.0 built with, and recorded
// in each file's "modules" so a reader can tell what the schema describes.
// Another k8s.io/api is the same program built with another module file:
// `go run -modfile=versions/k8s-v0.31.mod . -k8s k8s-v0.31.json -mesh ""`
// (gen-k8s.sh writes the module file and runs it; see README.md).
//
// Only reflection is used: the struct tags (json, patchStrategy,
// patchMergeKey, protobuf) and the protobuf descriptors are the source of
// truth, so nothing is transcribed by hand except the list of root types and
// the types whose JSON form is hand-written (kind "special").
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"sort"
	"strings"

	openshiftappsv1 "github.com/openshift/api/apps/v1"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/runtime/protoimpl"
	meshv1alpha1 "istio.io/api/mesh/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SidecarTemplateData mirrors istio.io/istio/pkg/kube/inject.SidecarTemplateData
// (Istio 1.22.0): the value Istio's injection templates are executed on. It
// lives in istio.io/istio, which we do not import, so it is restated here; the
// schema records it under Istio's own type name.
type SidecarTemplateData struct {
	TypeMeta                 metav1.TypeMeta
	DeploymentMeta           metav1.ObjectMeta
	ObjectMeta               metav1.ObjectMeta
	Spec                     corev1.PodSpec
	ProxyConfig              *meshv1alpha1.ProxyConfig
	MeshConfig               *meshv1alpha1.MeshConfig
	Values                   map[string]any
	Revision                 string
	ProxyImage               string
	ProxyUID                 int64
	ProxyGID                 int64
	InboundTrafficPolicyMode string
}

const sidecarTemplateDataName = "istio.io/istio/pkg/kube/inject.SidecarTemplateData"

type field struct {
	Go            string `json:"go"`
	JSON          string `json:"json"`
	OmitEmpty     bool   `json:"omitempty"`
	OmitZero      bool   `json:"omitzero,omitempty"`
	Inline        bool   `json:"inline"`
	Type          string `json:"type"`
	PatchStrategy string `json:"patchStrategy"`
	PatchMergeKey string `json:"patchMergeKey"`
	Oneof         string `json:"oneof,omitempty"`
	Proto         string `json:"proto,omitempty"`
}

type typeInfo struct {
	Kind       string            `json:"kind"`
	Underlying string            `json:"underlying,omitempty"`
	Values     map[string]string `json:"values,omitempty"`
	Fields     []field           `json:"fields,omitempty"`
	Proto      string            `json:"proto,omitempty"`
	Methods    []string          `json:"methods,omitempty"`
}

type schemaFile struct {
	Modules map[string]string    `json:"modules"`
	Kinds   map[string]string    `json:"kinds"`
	Types   map[string]*typeInfo `json:"types"`
}

// Types whose JSON (and template) behaviour comes from hand-written Go code
// (custom MarshalJSON/UnmarshalJSON, protobuf well-known types); the Python
// side implements each of them explicitly.
var specialTypes = map[string]bool{
	"k8s.io/apimachinery/pkg/api/resource.Quantity":                true,
	"k8s.io/apimachinery/pkg/util/intstr.IntOrString":              true,
	"k8s.io/apimachinery/pkg/apis/meta/v1.Time":                    true,
	"k8s.io/apimachinery/pkg/apis/meta/v1.MicroTime":               true,
	"k8s.io/apimachinery/pkg/apis/meta/v1.FieldsV1":                true,
	"k8s.io/apimachinery/pkg/apis/meta/v1.Duration":                true,
	"k8s.io/apimachinery/pkg/runtime.RawExtension":                 true,
	"google.golang.org/protobuf/types/known/durationpb.Duration":   true,
	"google.golang.org/protobuf/types/known/timestamppb.Timestamp": true,
	"google.golang.org/protobuf/types/known/structpb.Struct":       true,
	"google.golang.org/protobuf/types/known/structpb.Value":        true,
	"google.golang.org/protobuf/types/known/structpb.ListValue":    true,
	"google.golang.org/protobuf/types/known/anypb.Any":             true,
	"google.golang.org/protobuf/types/known/emptypb.Empty":         true,
}

var (
	jsonMarshaler   = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	jsonUnmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
	protoMessage    = reflect.TypeOf((*protoreflect.ProtoMessage)(nil)).Elem()
	protoEnum       = reflect.TypeOf((*protoreflect.Enum)(nil)).Elem()
)

type generator struct {
	types map[string]*typeInfo
	// names whose entry is being built, to stop recursion on cyclic types
	pending map[string]bool
}

func typeName(t reflect.Type) string {
	return t.PkgPath() + "." + t.Name()
}

func isSpecial(t reflect.Type) bool {
	name := typeName(t)
	if specialTypes[name] {
		return true
	}
	return strings.HasPrefix(name, "google.golang.org/protobuf/types/known/wrapperspb.")
}

// ref returns the type reference string for t, registering named types.
func (g *generator) ref(t reflect.Type) string {
	if t.Name() == "" || t.PkgPath() == "" {
		switch t.Kind() {
		case reflect.Ptr:
			return "*" + g.ref(t.Elem())
		case reflect.Slice:
			if t.Name() == "" {
				if t.Elem().Kind() == reflect.Uint8 && t.Elem().PkgPath() == "" {
					return "[]byte"
				}
				return "[]" + g.ref(t.Elem())
			}
		case reflect.Map:
			if t.Name() == "" {
				if t.Key().Kind() != reflect.String {
					panic(fmt.Sprintf("map key is not a string kind: %v", t))
				}
				return "map[string]" + g.ref(t.Elem())
			}
		case reflect.Interface:
			if t.Name() == "" && t.NumMethod() == 0 {
				return "interface{}"
			}
			if t.Name() == "any" {
				return "interface{}"
			}
		}
		if t.PkgPath() == "" && t.Name() != "" {
			return t.Name() // predeclared basic type
		}
		panic(fmt.Sprintf("unsupported unnamed type %v", t))
	}
	name := typeName(t)
	g.register(name, t)
	return name
}

func (g *generator) register(name string, t reflect.Type) {
	if _, done := g.types[name]; done || g.pending[name] {
		return
	}
	g.pending[name] = true
	defer delete(g.pending, name)
	info := &typeInfo{}
	switch {
	case isSpecial(t):
		info.Kind = "special"
	case t.Kind() == reflect.Struct && reflect.PtrTo(t).Implements(protoMessage):
		info.Kind = "struct"
		g.protoStruct(t, info)
	case t.Kind() == reflect.Struct:
		if t.Implements(jsonMarshaler) || reflect.PtrTo(t).Implements(jsonMarshaler) ||
			reflect.PtrTo(t).Implements(jsonUnmarshaler) {
			panic(fmt.Sprintf("struct %s has custom JSON methods but is not listed as special", name))
		}
		info.Kind = "struct"
		g.goStruct(t, info)
	case t.Implements(protoEnum):
		info.Kind = "enum"
		info.Underlying = t.Kind().String()
		ed := reflect.Zero(t).Interface().(protoreflect.Enum).Descriptor()
		info.Proto = string(ed.FullName())
		info.Values = map[string]string{}
		for i := 0; i < ed.Values().Len(); i++ {
			v := ed.Values().Get(i)
			num := fmt.Sprint(int32(v.Number()))
			if _, dup := info.Values[num]; !dup { // first name wins, as in the generated String()
				info.Values[num] = string(v.Name())
			}
		}
	case t.Kind() == reflect.Map || t.Kind() == reflect.Slice:
		// A named composite type (e.g. core/v1.ResourceList): JSON treats it
		// exactly like its underlying unnamed type.
		info.Kind = "named"
		var u reflect.Type
		if t.Kind() == reflect.Map {
			u = reflect.MapOf(t.Key(), t.Elem())
		} else {
			u = reflect.SliceOf(t.Elem())
		}
		info.Underlying = g.ref(u)
	case t.Kind() == reflect.Interface:
		panic(fmt.Sprintf("named interface type %s reached outside a oneof", name))
	default:
		if t.Implements(jsonMarshaler) || reflect.PtrTo(t).Implements(jsonUnmarshaler) {
			panic(fmt.Sprintf("basic type %s has custom JSON methods but is not listed as special", name))
		}
		info.Kind = "basic"
		info.Underlying = t.Kind().String()
	}
	info.Methods = methods(t)
	g.types[name] = info
}

// methods lists the exported methods callable on an addressable value of t
// (templates see pointers to the data, so the pointer method set applies)
// that take no arguments; the view layer uses it to know which GetX and
// String methods exist.
func methods(t reflect.Type) []string {
	var out []string
	pt := reflect.PtrTo(t)
	for i := 0; i < pt.NumMethod(); i++ {
		m := pt.Method(i)
		if m.Type.NumIn() != 1 || m.Type.NumOut() < 1 || m.Type.NumOut() > 2 {
			continue
		}
		if strings.HasPrefix(m.Name, "XXX_") || m.Name == "ProtoReflect" || m.Name == "ProtoMessage" ||
			m.Name == "Descriptor" || m.Name == "EnumDescriptor" || m.Name == "Reset" || m.Name == "DeepCopy" ||
			m.Name == "DeepCopyObject" || m.Name == "Marshal" || m.Name == "Size" || m.Name == "Type" ||
			m.Name == "Number" || m.Name == "MarshalJSON" || m.Name == "GetObjectMeta" ||
			m.Name == "GetObjectKind" || m.Name == "SwaggerDoc" {
			continue
		}
		out = append(out, m.Name)
	}
	sort.Strings(out)
	return out
}

func parseJSONTag(tag string) (name string, opts map[string]bool) {
	opts = map[string]bool{}
	parts := strings.Split(tag, ",")
	for _, o := range parts[1:] {
		opts[o] = true
	}
	return parts[0], opts
}

func (g *generator) goStruct(t reflect.Type, info *typeInfo) {
	info.Fields = []field{}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() && !sf.Anonymous {
			continue
		}
		tag, hasTag := sf.Tag.Lookup("json")
		if tag == "-" {
			continue
		}
		name, opts := parseJSONTag(tag)
		f := field{
			Go:            sf.Name,
			JSON:          name,
			OmitEmpty:     opts["omitempty"],
			OmitZero:      opts["omitzero"],
			PatchStrategy: sf.Tag.Get("patchStrategy"),
			PatchMergeKey: sf.Tag.Get("patchMergeKey"),
		}
		ft := sf.Type
		if sf.Anonymous && name == "" {
			// encoding/json promotes the fields of an untagged (or
			// name-less tagged, like `json:",inline"`) embedded struct.
			f.Inline = true
		} else if name == "" {
			f.JSON = sf.Name
		}
		_ = hasTag
		f.Type = g.ref(ft)
		info.Fields = append(info.Fields, f)
	}
}

func protoTagName(tag string) string {
	for _, p := range strings.Split(tag, ",") {
		if strings.HasPrefix(p, "name=") {
			return strings.TrimPrefix(p, "name=")
		}
	}
	return ""
}

func (g *generator) protoStruct(t reflect.Type, info *typeInfo) {
	msg := reflect.New(t).Interface().(protoreflect.ProtoMessage)
	md := msg.ProtoReflect().Descriptor()
	info.Proto = string(md.FullName())
	var wrappers []reflect.Type
	if mi, ok := msg.ProtoReflect().Type().(*protoimpl.MessageInfo); ok {
		for _, w := range mi.OneofWrappers {
			wrappers = append(wrappers, reflect.TypeOf(w))
		}
	}
	info.Fields = []field{}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		if oneofName, ok := sf.Tag.Lookup("protobuf_oneof"); ok {
			od := md.Oneofs().ByName(protoreflect.Name(oneofName))
			if od == nil {
				panic(fmt.Sprintf("%v: oneof %s not in descriptor", t, oneofName))
			}
			found := 0
			for _, w := range wrappers {
				if !w.Implements(sf.Type) {
					continue
				}
				wf := w.Elem().Field(0)
				pname := protoTagName(wf.Tag.Get("protobuf"))
				fd := md.Fields().ByName(protoreflect.Name(pname))
				info.Fields = append(info.Fields, field{
					Go:        wf.Name,
					JSON:      fd.JSONName(),
					OmitEmpty: true,
					Type:      g.ref(wf.Type),
					Oneof:     sf.Name,
					Proto:     pname,
				})
				found++
			}
			if found != od.Fields().Len() {
				panic(fmt.Sprintf("%v: oneof %s has %d members, found %d wrappers", t, oneofName, od.Fields().Len(), found))
			}
			continue
		}
		ptag, ok := sf.Tag.Lookup("protobuf")
		if !ok {
			continue
		}
		pname := protoTagName(ptag)
		fd := md.Fields().ByName(protoreflect.Name(pname))
		if fd == nil {
			panic(fmt.Sprintf("%v: field %s not in descriptor", t, pname))
		}
		info.Fields = append(info.Fields, field{
			Go:        sf.Name,
			JSON:      fd.JSONName(),
			OmitEmpty: true,
			Type:      g.ref(sf.Type),
			Proto:     pname,
		})
	}
}

func moduleVersions(prefixes ...string) map[string]string {
	out := map[string]string{}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		panic("no build info")
	}
	for _, d := range bi.Deps {
		for _, p := range prefixes {
			if d.Path == p {
				v := d.Version
				if d.Replace != nil {
					v = d.Replace.Version
				}
				out[d.Path] = v
			}
		}
	}
	return out
}

func write(path string, s *schemaFile) {
	data, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		panic(err)
	}
	data = append(data, '\n')
	if err := os.WriteFile(path, data, 0o644); err != nil {
		panic(err)
	}
	fmt.Printf("wrote %s: %d types\n", path, len(s.Types))
}

func main() {
	k8sFile := flag.String("k8s", "k8s.json", "file name of the Kubernetes schema in the output directory")
	meshFile := flag.String("mesh", "mesh.json", `file name of the mesh schema ("": not written)`)
	flag.Parse()
	outDir := filepath.Join("..", "..", "kubectl_inject", "gotypes", "schema")
	if flag.NArg() > 0 {
		outDir = flag.Arg(0)
	}
	g := &generator{types: map[string]*typeInfo{}, pending: map[string]bool{}}

	// The kinds istioctl kube-inject decodes (pkg/kube/inject's injectScheme
	// in Istio 1.22.0). They are registered there as unversioned types too,
	// so any apiVersion with one of these kinds decodes into the same type;
	// object_type() in Python applies that fallback.
	roots := []struct {
		apiVersion string
		obj        any
	}{
		{"v1", corev1.ReplicationController{}},
		{"v1", corev1.Pod{}},
		{"apps/v1", appsv1.Deployment{}},
		{"apps/v1", appsv1.DaemonSet{}},
		{"apps/v1", appsv1.ReplicaSet{}},
		{"batch/v1", batchv1.Job{}},
		{"batch/v1", batchv1.CronJob{}},
		{"apps/v1", appsv1.StatefulSet{}},
		{"v1", corev1.List{}},
		{"apps.openshift.io/v1", openshiftappsv1.DeploymentConfig{}},
	}
	kinds := map[string]string{}
	for _, r := range roots {
		t := reflect.TypeOf(r.obj)
		kinds[r.apiVersion+"/"+t.Name()] = g.ref(t)
	}
	// Other types the plugin reads or builds directly.
	for _, v := range []any{metav1.TypeMeta{}, metav1.ObjectMeta{}, metav1.List{}, metav1.LabelSelector{},
		corev1.PodTemplateSpec{}, corev1.Namespace{}} {
		g.ref(reflect.TypeOf(v))
	}
	// The mesh types only when mesh.json is written: istio.io/api v1.22.0's descriptors name
	// apimachinery's gogo LabelSelector message, which k8s.io/apimachinery v0.35 no longer is
	// (resolving them panics there). Nothing of k8s.json comes from them alone.
	std := &typeInfo{Kind: "struct"}
	if *meshFile != "" {
		g.ref(reflect.TypeOf(meshv1alpha1.MeshConfig{}))
		g.ref(reflect.TypeOf(meshv1alpha1.ProxyConfig{}))
		g.ref(reflect.TypeOf(meshv1alpha1.MeshNetworks{}))
		// Record the template data struct under Istio's name.
		g.goStruct(reflect.TypeOf(SidecarTemplateData{}), std)
		std.Methods = []string{}
	}

	k8s := &schemaFile{
		Modules: moduleVersions("k8s.io/api", "k8s.io/apimachinery", "github.com/openshift/api"),
		Kinds:   kinds,
		Types:   map[string]*typeInfo{},
	}
	mesh := &schemaFile{
		Modules: moduleVersions("istio.io/api", "google.golang.org/protobuf"),
		Kinds:   map[string]string{},
		Types:   map[string]*typeInfo{},
	}
	for name, info := range g.types {
		if strings.HasPrefix(name, "istio.io/") || strings.HasPrefix(name, "google.golang.org/") {
			mesh.Types[name] = info
		} else {
			k8s.Types[name] = info
		}
	}
	mesh.Types[sidecarTemplateDataName] = std
	write(filepath.Join(outDir, *k8sFile), k8s)
	if *meshFile != "" {
		write(filepath.Join(outDir, *meshFile), mesh)
	}
}
