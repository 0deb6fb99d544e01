#!/usr/bin/env python3
# Derives test/fixtures/findings/ocsf-requirements.json, compact requirement data for the OCSF class the guard
# emits (Compliance Finding, class_uid 2003, with the cloud profile, as Prowler's json-ocsf output does), from a
# clone of the published schema, https://github.com/ocsf/ocsf-schema, at the tag of the version emitted.
# It resolves what the schema server would (extends chains, $include'd files, the dictionary's types and enums)
# and keeps only what a validator needs: each attribute's requirement, JSON type, array-ness and enum ids, for
# the class and for the objects the guard emits. Not a copy of the schema: no descriptions, captions or unused
# objects. Run: python3 scripts/ocsf-requirements.py <ocsf-schema clone> 1.3.0
import json, os, subprocess, sys

REPO, TAG = sys.argv[1], sys.argv[2]
PROFILES = {'cloud'}  # profiles applied to the emitted events (metadata.profiles)
OBJECTS = ['metadata', 'product', 'finding_info', 'compliance', 'resource_details', 'cloud', 'account',
           'remediation']
PRIMITIVE = {'string_t': 'string', 'integer_t': 'integer', 'long_t': 'integer', 'float_t': 'number',
             'boolean_t': 'boolean', 'json_t': 'any', 'object_t': 'object'}


def read(path):
    return json.loads(subprocess.check_output(['git', '-C', REPO, 'show', f'{TAG}:{path}']))


DICTIONARY = read('dictionary.json')
TYPES = DICTIONARY['types']['attributes']


def base_type(name):
    while name not in PRIMITIVE and name in TYPES and 'type' in TYPES[name]:
        name = TYPES[name]['type']
    return PRIMITIVE.get(name, name)


def own_attributes(doc):
    attributes = {}
    for key, value in doc.get('attributes', {}).items():
        if key == '$include':
            for path in value if isinstance(value, list) else [value]:
                included = read(path)
                if included.get('meta') == 'profile' and included.get('name') not in PROFILES:
                    continue
                for k, v in included['attributes'].items():
                    attributes[k] = {**attributes.get(k, {}), **v}
        else:
            attributes[key] = {**attributes.get(key, {}), **value}
    return attributes


def resolve(path, folder):
    doc = read(path)
    parent = doc.get('extends')
    merged, constraints = {}, {}
    if parent and parent != 'object':
        candidates = [f'{folder}/{parent}.json', f'{folder}/findings/{parent}.json']
        found = next(p for p in candidates if exists(p))
        merged, constraints = resolve(found, folder)
    for key, value in own_attributes(doc).items():
        enum = {**merged.get(key, {}).get('enum', {}), **value.get('enum', {})}
        merged[key] = {**merged.get(key, {}), **value, **({'enum': enum} if enum else {})}
    return merged, {**constraints, **doc.get('constraints', {})}


def exists(path):
    return subprocess.run(['git', '-C', REPO, 'cat-file', '-e', f'{TAG}:{path}'], capture_output=True).returncode == 0


def compact(attributes):
    out = {}
    for name, spec in sorted(attributes.items()):
        entry = DICTIONARY['attributes'].get(name, {})
        ocsf_type = spec.get('type', entry.get('type', 'string_t'))
        enum = {**entry.get('enum', {}), **spec.get('enum', {})}
        item = {'requirement': spec.get('requirement', 'optional'), 'type': base_type(ocsf_type)}
        if entry.get('is_array') or spec.get('is_array'):
            item['array'] = True
        if enum:
            item['enum'] = sorted(int(k) if k.lstrip('-').isdigit() else k for k in enum)
        out[name] = item
    return out


def main():
    version = read('version.json')['version']
    category = read('categories.json')['attributes']['findings']['uid']
    cls = read('events/findings/compliance_finding.json')
    attributes, constraints = resolve('events/findings/compliance_finding.json', 'events')
    class_attributes = compact(attributes)
    # The classification include's enums ({0: Base Event}) are the base event's; a class fixes its own ids.
    class_attributes['class_uid'] = {**class_attributes['class_uid'], 'const': category * 1000 + cls['uid']}
    class_attributes['category_uid'] = {**class_attributes['category_uid'], 'const': category}
    for fixed in ('class_uid', 'category_uid'):
        class_attributes[fixed].pop('enum', None)
    objects = {}
    for name in OBJECTS:
        attrs, cons = resolve(f'objects/{name}.json', 'objects')
        objects[name] = {'attributes': compact(attrs), **({'constraints': cons} if cons else {})}
    data = {
        'source': f'https://github.com/ocsf/ocsf-schema tag {TAG}',
        'version': version,
        'generatedBy': 'scripts/ocsf-requirements.py',
        'profiles': sorted(PROFILES),
        'class': {
            'name': cls['name'],
            'category_uid': category,
            'class_uid': category * 1000 + cls['uid'],
            'attributes': class_attributes,
            **({'constraints': constraints} if constraints else {}),
        },
        'objects': objects,
    }
    target = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'findings', 'ocsf-requirements.json')
    with open(target, 'w') as f:
        json.dump(data, f, indent=1)
        f.write('\n')
    print(f'{target}: OCSF {version}, class_uid {data["class"]["class_uid"]}', file=sys.stderr)


main()
