/**
 * The app reads generated/: a step added to a saga (its manifest entry and its Task state, as
 * `cargo run -p saga-dsl` writes them) becomes a function, a role and a substitution with no
 * edit under infra/; a manifest and a definition that disagree fail the synth.
 */
import * as path from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { copyOfGenerated, only, readJson, resourcesOf, synth, writeJson } from './support';

function addReserveCar(dir: string): void {
  const manifestFile = path.join(dir, 'trip_booking.functions.json');
  const manifest = readJson(manifestFile);
  const car = {
    name: 'ReserveCar',
    kind: 'action',
    state: 'ReserveCar',
    substitution_key: 'ReserveCarFunctionArn',
    crate: 'trip-saga',
    binary: 'reserve-car',
    handler: 'handlers::car::reserve',
  };
  manifest.functions.push(car);
  manifest.steps.push({ action: car, timeout_seconds: 30 });
  writeJson(manifestFile, manifest);
  const accessFile = path.join(dir, 'trip_table_access.json');
  const access = readJson(accessFile);
  access.sagas.TripBooking.ReserveCar = ['dynamodb:GetItem', 'dynamodb:PutItem'];
  writeJson(accessFile, access);

  const aslFile = path.join(dir, 'trip_booking.asl.json');
  const asl = readJson(aslFile);
  const hotel = asl.States.ReserveHotel;
  asl.States.ReserveCar = {
    ...asl.States.ReserveHotel,
    Parameters: { ...hotel.Parameters, FunctionName: '${ReserveCarFunctionArn}' },
    Next: hotel.Next,
  };
  hotel.Next = 'ReserveCar';
  writeJson(aslFile, asl);
}

test('a new step in generated/ is a new function, role and substitution', () => {
  const before = synth('dev').template;
  const dir = copyOfGenerated();
  addReserveCar(dir);
  const after = synth('dev', dir).template;

  const count = (t: typeof before, type: string) => Object.keys(resourcesOf(t, type)).length;
  expect(count(after, 'AWS::Lambda::Function')).toBe(count(before, 'AWS::Lambda::Function') + 1);
  expect(count(after, 'AWS::IAM::Role')).toBe(count(before, 'AWS::IAM::Role') + 1);
  expect(count(after, 'AWS::Lambda::Version')).toBe(count(before, 'AWS::Lambda::Version') + 1);

  const [id, car] = Object.entries(resourcesOf(after, 'AWS::Lambda::Function')).find(([, f]) =>
    f.Properties.Description.includes(': ReserveCar ('),
  )!;
  const [, machine] = only(after, 'AWS::StepFunctions::StateMachine');
  const versionId = machine.Properties.DefinitionSubstitutions.ReserveCarFunctionArn.Ref;
  expect(resourcesOf(after, 'AWS::Lambda::Version')[versionId].Properties.FunctionName).toEqual({
    Ref: id,
  });
  expect(machine.Properties.DefinitionString).toContain('"ReserveCar"');
  const roleId = car.Properties.Role['Fn::GetAtt'][0];
  expect(resourcesOf(after, 'AWS::IAM::Role')[roleId]).toBeDefined();
  const grants = Object.values(resourcesOf(after, 'AWS::IAM::Policy'))
    .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .filter((s) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
  expect(grants.map((s) => [s.Action].flat().sort())).toEqual([['dynamodb:GetItem', 'dynamodb:PutItem']]);
});

test('a function without declared table actions fails the synth, naming it', () => {
  const dir = copyOfGenerated();
  const accessFile = path.join(dir, 'trip_table_access.json');
  const access = readJson(accessFile);
  delete access.sagas.TripBooking.ConfirmTrip;
  writeJson(accessFile, access);
  expect(() => synth('dev', dir)).toThrow(/no table actions for TripBooking's ConfirmTrip/);
});

test('a placeholder no function provides fails the synth, naming it', () => {
  const dir = copyOfGenerated();
  const aslFile = path.join(dir, 'trip_booking.asl.json');
  writeFileSync(
    aslFile,
    readFileSync(aslFile, 'utf8').replace('${ConfirmTripFunctionArn}', '${ConfirmTripFunctionArnTypo}'),
  );
  expect(() => synth('dev', dir)).toThrow(/ConfirmTripFunctionArnTypo.*no function/);
});

test('a function whose placeholder the definition lacks fails the synth, naming it', () => {
  const dir = copyOfGenerated();
  const manifestFile = path.join(dir, 'trip_booking.functions.json');
  const manifest = readJson(manifestFile);
  manifest.functions.push({ ...manifest.functions[0], name: 'Orphan', substitution_key: 'OrphanFunctionArn' });
  writeJson(manifestFile, manifest);
  const accessFile = path.join(dir, 'trip_table_access.json');
  const access = readJson(accessFile);
  access.sagas.TripBooking.Orphan = ['dynamodb:GetItem'];
  writeJson(accessFile, access);
  expect(() => synth('dev', dir)).toThrow(/Orphan.*not in the definition/);
});

test('a missing or foreign generated/ is a clear error', () => {
  const dir = copyOfGenerated();
  writeFileSync(path.join(dir, 'trip_table.json'), '{"generated": "x"}');
  expect(() => synth('dev', dir)).toThrow(/trip_table.json has no `name_variable`.*make gen/);
  expect(() => synth('dev', path.join(dir, 'nowhere'))).toThrow();
});
