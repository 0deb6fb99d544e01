#!/usr/bin/env python3
# Derives test/fixtures/findings/asff-model.json from the Security Hub API model that botocore ships
# (data/securityhub/2018-10-26/service-2.json): the shapes of AwsSecurityFinding the tests validate every
# emitted ASFF document against (required members, member types, enums, length limits stated in the docs),
# and of BatchImportFindings' request and response (the emulator's answers). Subtrees the guard never emits
# (resource Details, Malware, Network, ...) are kept only as their member name and type, marked "pruned":
# a document that carries one fails validation. Run: python3 scripts/asff-model-fixture.py
import gzip, json, os, re, sys
import botocore

ROOT = os.path.join(os.path.dirname(botocore.__file__), 'data', 'securityhub', '2018-10-26')
PRUNED = {'Details', 'Malware', 'Network', 'NetworkPath', 'Process', 'Threats', 'ThreatIntelIndicators',
          'Vulnerabilities', 'PatchSummary', 'Action', 'Detection', 'GeneratorDetails', 'RelatedFindings',
          'Note', 'DataClassification', 'ApplicationArn', 'RelatedRequirements', 'SecurityControlParameters',
          'StatusReasons', 'AssociatedStandards'}
ROOTS = ['AwsSecurityFinding', 'BatchImportFindingsRequest', 'BatchImportFindingsResponse']


def load():
    plain = os.path.join(ROOT, 'service-2.json')
    if os.path.exists(plain):
        return json.load(open(plain))
    return json.load(gzip.open(plain + '.gz'))


def max_length(doc):
    m = re.search(r'Maximum (?:of )?(?:length of )?(\d+)(?: length| characters)?', doc or '')
    return int(m.group(1)) if m else None


def member_limits(doc):
    # Limits the model states only in its documentation text (its shapes are plain NonEmptyString / lists / maps).
    doc = doc or ''
    limits = {}
    length = max_length(doc)
    if length:
        limits['maxLength'] = length
    for key, pattern in (('maxItems', r'Maximum number of (\d+) items?'), ('minItems', r'Minimum number of (\d+) items?'),
                         ('maxEntries', r'up to (\d+) key-value pairs'), ('maxKeyLength', r'the key can contain up to (\d+)'),
                         ('maxValueLength', r'the value can contain up to (\d+)')):
        m = re.search(pattern, doc)
        if m:
            limits[key] = int(m.group(1))
    m = re.search(r'Length Constraints: (\d+)\.', doc)
    if m:
        limits['exactLength'] = int(m.group(1))
    m = re.search(r'Valid namespace values are: ([^<]+)', doc)
    if m:
        limits['namespaces'] = [v.strip() for v in m.group(1).split('|')]
    if '#timestamps' in doc or 'RFC 3339' in doc:
        limits['timestamp'] = True
    return limits


def main():
    model = load()
    shapes = model['shapes']
    out, todo = {}, list(ROOTS)
    while todo:
        name = todo.pop()
        if name in out:
            continue
        shape = shapes[name]
        entry = {'type': shape['type']}
        if 'enum' in shape:
            entry['enum'] = shape['enum']
        if shape['type'] == 'structure':
            entry['required'] = shape.get('required', [])
            members = {}
            for member, ref in shape['members'].items():
                target = shapes[ref['shape']]
                m = {'shape': ref['shape'], 'type': target['type']}
                limits = member_limits(ref.get('documentation'))
                if target['type'] != 'string':
                    limits.pop('maxLength', None)
                m.update(limits)
                if member in PRUNED and name != 'BatchImportFindingsRequest':
                    m['pruned'] = True
                else:
                    todo.append(ref['shape'])
                members[member] = m
            entry['members'] = members
        elif shape['type'] == 'list':
            entry['member'] = shape['member']['shape']
            if 'max' in shape:
                entry['max'] = shape['max']
            todo.append(shape['member']['shape'])
        elif shape['type'] == 'map':
            entry['key'] = shape['key']['shape']
            entry['value'] = shape['value']['shape']
            todo += [shape['key']['shape'], shape['value']['shape']]
        for bound in ('min', 'max', 'pattern'):
            if bound in shape and shape['type'] != 'list':
                entry[bound] = shape[bound]
        out[name] = entry
    fixture = {
        'source': 'botocore ' + botocore.__version__ + ' data/securityhub/2018-10-26/service-2.json',
        'apiVersion': model['metadata']['apiVersion'],
        'generatedBy': 'scripts/asff-model-fixture.py',
        'shapes': dict(sorted(out.items())),
    }
    target = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'findings', 'asff-model.json')
    with open(target, 'w') as f:
        json.dump(fixture, f, indent=1)
        f.write('\n')
    print(f'{target}: {len(out)} shapes', file=sys.stderr)


main()
