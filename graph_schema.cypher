// graph_schema.cypher - the graph model of the netanalysis toolkit, as data.
//
// This file is the single source of truth for which labels, relationship types and keys exist.
// `graphstore.schema` parses it: the `// @node` and `// @rel` lines below are machine-read, the
// CREATE statements are applied to Neo4j as they are (every one is idempotent: IF NOT EXISTS),
// and the embedded store derives its key columns from the same lines.
//
// Privacy: no clear name, birth date, phone number, plate, IBAN, case number or document number is
// ever stored. Every identifying value is a keyed hash (HMAC-SHA-256, hex, first 32 chars) made by
// `loaders.pseudonymise` with a secret key that never enters the repository.
//
// ---------------------------------------------------------------------------------------------
// Nodes.  Format:  // @node Label key=<key property>  <description>
//   Every node has its key property (unique, constraint below) and `label`-specific properties.
//
// @node Person key=person_id  A resolved person (one or more source rows). person_id: pseudonym.
//    roles: list of "suspect"/"victim"/"signalled" seen for the person; nationality: ISO 3166 alpha-3
//    or null; birth_year: int or null (year only, kept for age bands); gender: m|f|x or null (for
//    the report's breakdowns); display: pseudonym shown in maps.
// @node Record key=record_id  One source row that describes a person, the unit of provenance.
//    record_id: "<source>:<row_id>"; source, row_id: as written in the source file and mapping;
//    batch: load batch id; legal_basis; reliability; observed_on (ISO date or null).
//    comparison: keyed comparison data for later loads (loaders.crossload); blocks: its keyed
//    blocking keys, space-separated "<rule>:<hash>" (indexed below), for later loads only.
// @node Case key=case_id  An investigation or prosecution file. case_id: keyed hash of the
//    source case number; exploitation_type: sexual|labour|criminal|organ|unknown; source.
// @node Signal key=signal_id  A possible indication of trafficking, "soft" information.
//    signal_id: "<source>:<row_id>"; source; exploitation_type; observed_on; reliability;
//    case_linked: true when the signal is already tied to a case (then also a TIED_TO relationship).
// @node Municipality key=code  CBS municipality of 2025, e.g. GM0363. name, lat, lon.
// @node Region key=region_id  "<level>:<code>", level one of police_unit|safety_region|province;
//    code: CBS code (RE01, VR13, PV27); name; level.
// @node Premises key=premises_id  A place where exploitation happens (massage parlour, car wash,
//    agency, hotel, private address). premises_id: keyed hash of normalised name + PC4;
//    kind; pc4 (postcode digits only, not identifying on their own); municipality code.
// @node Phone key=phone_id  A phone number, keyed hash of its E.164 form.
// @node Vehicle key=vehicle_id  A licence plate, keyed hash of the normalised plate.
// @node BankAccount key=account_id  An IBAN, keyed hash of the normalised IBAN.
// @node Source key=name  Who delivered the data. kind: case|signal|victim_registration;
//    legal_basis; reliability (default grade of the source).
// @node Group key=group_id  A perpetrator group as the last tracked detection left it (issue 13:
//    stable group ids across runs, written only by `detect --track`). members: list of the
//    suspects' person ids (pseudonyms, as on Person); status: active|ended; event: the group's
//    last lineage event (born, kept, grew, shrank, changed, merged, split, dissolved, merged_into,
//    split_up); related: "|"-joined ids of its parents or successors; as_of: reference date of
//    that detection. Ended groups stay, so an id is never given to another group. A reference
//    node: retention deletes never remove it as an orphan (it has no relationships).
// @node Merge key=merge_id  A merge of persons (issue 13): a record of a later load joined persons an
//    earlier load kept apart, and the load made them one. merge_id: "<merged>@<batch>"; merged:
//    person id of the person that was absorbed (it no longer exists); into: person id of the person
//    that now holds its records, relationships and provenance; record_id: the record of this load
//    that bridged them; batch: the load's batch id; score: match probability of the pair that
//    joined them (as on DESCRIBES; null when the clear resolution joined them without a scored
//    pair); records: how many records the absorbed person had; merged_at: UTC time of the merge.
//    A reference node: retention never removes it (a delete never splits a merged person).
// @node Split key=split_id  A split of a person (issue 13): a later load re-resolved a stored person
//    with its new records and the guard against chaining kept some of its records apart, as one
//    load of everything would. split_id: "<into>@<batch>"; person: the person that was split (it
//    keeps its other records); into: the new person that now holds the records moved; records:
//    list of their record ids; batch: the load's batch id; reason: why (e.g. "contradiction");
//    split_at: UTC time of the split. A reference node: retention never removes it.
// @node Organisation key=organisation_id  A company, foundation or partnership (issue 20).
//    organisation_id: keyed hash of its 8-digit KvK (Chamber of Commerce) number, or, when no number
//    is known, of its normalised name (legal-form words such as B.V., V.O.F., Stichting removed)
//    and place (municipality code); sector: SBI section letter (A-U) or null; kind: e.g.
//    "employment agency", "cleaning"; municipality: CBS code of its seat. The name is never stored.
// @node Address key=address_id  A full address, e.g. where a person is registered in the
//    municipal population register (BRP). address_id: keyed hash of postcode (PC6, "1012AB") +
//    house number (+ addition, upper case); pc4: the four postcode digits and municipality: CBS
//    code, both in clear (not identifying on their own). Street, PC6 and number are never stored.
//
// ---------------------------------------------------------------------------------------------
// Relationships.  Format:  // @rel TYPE (StartLabel|...)->(EndLabel|...)  <description>
//   A type may be declared on several lines (AT); it then joins the label pairs of each line only.
//   Every relationship has `rel_key`: the same fact from the same source row has the same rel_key,
//   so a reload MERGEs instead of duplicating. Facts from source rows carry provenance:
//   source, row_id, batch, legal_basis, reliability, observed_on (ISO date or null).
//   Standing facts (IN) carry no observed_on, so every time slice keeps them (see GraphSlice).
//
// @rel DESCRIBES (Record)->(Person)  the source row describes this person (entity resolution result);
//    match: "exact" or "probabilistic", score: match probability.
// @rel FROM (Record|Signal|Case)->(Source)  delivered by.
// @rel SUSPECT_IN (Person)->(Case)  person is a suspect in the case.
// @rel VICTIM_IN (Person)->(Case)  person is a (possible) victim in the case.
// @rel SEEN_AT (Person)->(Municipality|Premises)  person observed at a place on observed_on;
//    role: the person's role in that observation (suspect|victim|signalled).
// @rel USES (Person)->(Phone|Vehicle|BankAccount)  person uses an identifier.
// @rel CONCERNS (Signal)->(Person)  signal mentions the person; role: suspect|victim|signalled.
// @rel AT (Signal|Case)->(Municipality|Premises)  where the signal or case fact is located.
// @rel TIED_TO (Signal)->(Case)  the signal names this case number (the signal's case_linked is
//    then true); one per signal row that names it, with that row's provenance.
// @rel AT (Organisation|Premises)->(Address)  the organisation's registered address, or the address
//    of the premises; provenance of the row that gave it, without observed_on (a standing fact).
// @rel EMPLOYED_BY (Person)->(Organisation)  the person works for (is paid by, is placed by) the
//    organisation; from_date, to_date: ISO dates or null.
// @rel DIRECTOR_OF (Person)->(Organisation)  the person is a director (bestuurder) of it;
//    from_date, to_date.
// @rel OWNS (Person)->(Organisation)  the person owns it or holds a share; from_date, to_date.
// @rel REGISTERED_AT (Person)->(Address)  the person is registered at the address (population
//    register); from_date, to_date: ISO dates of the registration, to_date null while it lasts.
// @rel EXPLOITED (Person)->(Person)  from a case file: the start person exploited the end person;
//    from_date, to_date. rel_key of the person-to-person roles, DIRECTOR_OF and OWNS:
//    "<record id>:<TYPE>", so that one row naming two roles between the same two ends gives two.
// @rel RECRUITED (Person)->(Person)  the start person recruited the end person; from_date, to_date.
// @rel TRANSPORTED (Person)->(Person)  the start person transported the end person; from_date,
//    to_date.
// @rel CONTROLLED (Person)->(Person)  the start person controlled the end person (kept documents,
//    money, movements); from_date, to_date.
// @rel IN (Premises|Municipality)->(Municipality|Region)  premises in municipality, municipality
//    in region (one per level). Municipality in region: reference facts, source "CBS 2025".
//    Premises in municipality: provenance of the last row that placed it, without observed_on.
// ---------------------------------------------------------------------------------------------

CREATE CONSTRAINT person_key IF NOT EXISTS FOR (n:Person) REQUIRE n.person_id IS UNIQUE;
CREATE CONSTRAINT record_key IF NOT EXISTS FOR (n:Record) REQUIRE n.record_id IS UNIQUE;
CREATE CONSTRAINT case_key IF NOT EXISTS FOR (n:Case) REQUIRE n.case_id IS UNIQUE;
CREATE CONSTRAINT signal_key IF NOT EXISTS FOR (n:Signal) REQUIRE n.signal_id IS UNIQUE;
CREATE CONSTRAINT municipality_key IF NOT EXISTS FOR (n:Municipality) REQUIRE n.code IS UNIQUE;
CREATE CONSTRAINT region_key IF NOT EXISTS FOR (n:Region) REQUIRE n.region_id IS UNIQUE;
CREATE CONSTRAINT premises_key IF NOT EXISTS FOR (n:Premises) REQUIRE n.premises_id IS UNIQUE;
CREATE CONSTRAINT phone_key IF NOT EXISTS FOR (n:Phone) REQUIRE n.phone_id IS UNIQUE;
CREATE CONSTRAINT vehicle_key IF NOT EXISTS FOR (n:Vehicle) REQUIRE n.vehicle_id IS UNIQUE;
CREATE CONSTRAINT bank_account_key IF NOT EXISTS FOR (n:BankAccount) REQUIRE n.account_id IS UNIQUE;
CREATE CONSTRAINT source_key IF NOT EXISTS FOR (n:Source) REQUIRE n.name IS UNIQUE;
CREATE CONSTRAINT group_key IF NOT EXISTS FOR (n:Group) REQUIRE n.group_id IS UNIQUE;
CREATE CONSTRAINT merge_key IF NOT EXISTS FOR (n:Merge) REQUIRE n.merge_id IS UNIQUE;
CREATE CONSTRAINT split_key IF NOT EXISTS FOR (n:Split) REQUIRE n.split_id IS UNIQUE;
CREATE CONSTRAINT organisation_key IF NOT EXISTS FOR (n:Organisation) REQUIRE n.organisation_id IS UNIQUE;
CREATE CONSTRAINT address_key IF NOT EXISTS FOR (n:Address) REQUIRE n.address_id IS UNIQUE;

// Retention and slicing: delete by source, by observation date; read a time window.
CREATE INDEX record_source IF NOT EXISTS FOR (n:Record) ON (n.source);
CREATE INDEX record_observed IF NOT EXISTS FOR (n:Record) ON (n.observed_on);
CREATE INDEX signal_source IF NOT EXISTS FOR (n:Signal) ON (n.source);
CREATE INDEX signal_observed IF NOT EXISTS FOR (n:Signal) ON (n.observed_on);
CREATE INDEX case_source IF NOT EXISTS FOR (n:Case) ON (n.source);
CREATE INDEX region_level IF NOT EXISTS FOR (n:Region) ON (n.level);
// Relationship property indexes: retention by source/date. (No index on rel_key: the upsert's
// MERGE finds a relationship from its two endpoints, Expand(Into), and never used one.)
CREATE INDEX seen_at_observed IF NOT EXISTS FOR ()-[r:SEEN_AT]-() ON (r.observed_on);
CREATE INDEX seen_at_source IF NOT EXISTS FOR ()-[r:SEEN_AT]-() ON (r.source);
CREATE INDEX suspect_in_source IF NOT EXISTS FOR ()-[r:SUSPECT_IN]-() ON (r.source);
CREATE INDEX victim_in_source IF NOT EXISTS FOR ()-[r:VICTIM_IN]-() ON (r.source);
CREATE INDEX uses_source IF NOT EXISTS FOR ()-[r:USES]-() ON (r.source);
CREATE INDEX concerns_source IF NOT EXISTS FOR ()-[r:CONCERNS]-() ON (r.source);
CREATE INDEX tied_to_source IF NOT EXISTS FOR ()-[r:TIED_TO]-() ON (r.source);
CREATE INDEX describes_source IF NOT EXISTS FOR ()-[r:DESCRIBES]-() ON (r.source);
CREATE INDEX employed_by_source IF NOT EXISTS FOR ()-[r:EMPLOYED_BY]-() ON (r.source);
CREATE INDEX registered_at_source IF NOT EXISTS FOR ()-[r:REGISTERED_AT]-() ON (r.source);
CREATE INDEX address_pc4 IF NOT EXISTS FOR (n:Address) ON (n.pc4);
// Resolution across loads (issue 13): a delivery reads only the stored person records that share a
// keyed blocking key with its own records. The keys are one space-separated string per Record; the
// whitespace analyzer keeps each key one term, so a query for a key finds exactly the records that
// hold it. (The embedded store keeps the same keys in its table record_blocks.)
CREATE FULLTEXT INDEX record_blocks IF NOT EXISTS FOR (n:Record) ON EACH [n.blocks] OPTIONS {indexConfig: {`fulltext.analyzer`: 'whitespace'}};
