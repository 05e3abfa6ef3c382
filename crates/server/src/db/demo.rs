//! The demo catalogue: small, deterministic copies of the tables that public TAP examples
//! query, so that those examples run unchanged against a fresh `tapir serve`:
//!
//! | table | rows | examples |
//! |---|---|---|
//! | `ivoa.ObsCore` | 39 | ESO: `select top 2 * from ivoa.ObsCore` |
//! | `gaiadr1.gaia_source` | 5,000 | ESA Gaia: TOP 5, and the 5' cone on Sgr A* |
//! | `v_ll_data_item`, `v_auxiliary_file` | 168, 40 | Solar Orbiter (SOAR), no schema prefix |
//! | `amanda.nucand`, `ppmxl.main` | 200, 2,552 | GAVO's TAP client documentation |
//! | `hsa.v_active_observation`, `"J/A+A/605/L8/quasar_a"` | 30, 400 | Gaia's external-TAP examples |
//! | `bench.objects` | 10,000 | the benchmark table (BENCH-DATA.md) at demo size |
//!
//! The rows are generated in SQL (`sql/*.sql`); the columns, with their TAP_SCHEMA metadata,
//! are described here once and turned into both the `CREATE TABLE` and the TAP_SCHEMA rows.
//! Loading replaces only tables that `tapir load` created (tapir.catalogue), in one
//! transaction.

use tokio_postgres::Client;

use super::bench;
use super::catalogue::{
    self, col, Col, SchemaDef, TableDef, DELIMITED, INDEXED, KEY, NOT_NULL, PRINCIPAL, REGION, STD,
};
use super::migrate::{finish, LOCK_LOAD};
use super::DbError;

/// Bump when the demo's tables or rows change: an embedded cluster with an older demo
/// reloads it at start-up.
pub(crate) const DEMO_VERSION: &str = "1";
/// Rows of the demo's copy of bench.objects.
pub(crate) const DEMO_BENCH_ROWS: i64 = 10_000;

static IVOA: SchemaDef = SchemaDef {
    name: "ivoa",
    description:
        "IVOA data models: the ObsCore table of observations (demo content modelled on ESO's archive)",
    index: 1,
};
static GAIADR1: SchemaDef = SchemaDef {
    name: "gaiadr1",
    description: "Gaia Data Release 1 (demo: synthetic sources with DR1's columns)",
    index: 2,
};
static PUBLIC: SchemaDef = SchemaDef {
    name: "public",
    description: "Tables queried without a schema prefix: Solar Orbiter archive views and a VizieR table",
    index: 3,
};
static AMANDA: SchemaDef = SchemaDef {
    name: "amanda",
    description: "AMANDA-II neutrino candidates (demo copy)",
    index: 4,
};
static PPMXL: SchemaDef = SchemaDef {
    name: "ppmxl",
    description: "PPMXL positions and proper motions (demo copy)",
    index: 5,
};
static HSA: SchemaDef = SchemaDef {
    name: "hsa",
    description: "Herschel Science Archive (demo copy)",
    index: 6,
};

const OBSCORE_STD: u8 = STD;

#[rustfmt::skip]
static OBSCORE_COLUMNS: [Col; 39] = [
    col("dataproduct_type", "text", "", "meta.code.class", "Data product (file content) primary type")
        .utype("obscore:ObsDataset.dataProductType").flags(OBSCORE_STD | PRINCIPAL),
    col("dataproduct_subtype", "text", "", "meta.code.class", "Data product specific type")
        .utype("obscore:ObsDataset.dataProductSubtype").flags(OBSCORE_STD),
    col("calib_level", "integer", "", "meta.code;obs.calib",
        "Calibration level of the observation: in {0, 1, 2, 3, 4}")
        .utype("obscore:ObsDataset.calibLevel").flags(OBSCORE_STD | PRINCIPAL | NOT_NULL),
    col("obs_collection", "text", "", "meta.id", "Name of the data collection")
        .utype("obscore:DataID.Collection").flags(OBSCORE_STD | PRINCIPAL | NOT_NULL),
    col("obs_id", "text", "", "meta.id", "Internal ID given by the ObsTAP service")
        .utype("obscore:DataID.observationID").flags(OBSCORE_STD | PRINCIPAL | NOT_NULL),
    col("obs_title", "text", "", "meta.title;obs", "Brief description of dataset in free format")
        .utype("obscore:DataID.Title").flags(OBSCORE_STD),
    col("obs_publisher_did", "text", "", "meta.ref.ivoid", "ID for the Dataset given by the publisher")
        .utype("obscore:Curation.PublisherDID").flags(OBSCORE_STD | PRINCIPAL | KEY),
    col("obs_creator_did", "text", "", "meta.id", "IVOA dataset identifier given by the creator")
        .utype("obscore:DataID.CreatorDID").flags(OBSCORE_STD),
    col("obs_release_date", "timestamp", "", "time.release", "Observation release date")
        .utype("obscore:Curation.releaseDate").flags(OBSCORE_STD),
    col("access_url", "text", "", "meta.ref.url", "URL used to access (download) dataset")
        .utype("obscore:Access.Reference").flags(OBSCORE_STD | PRINCIPAL),
    col("access_format", "text", "", "meta.code.mime", "File content format")
        .utype("obscore:Access.Format").flags(OBSCORE_STD | PRINCIPAL),
    col("access_estsize", "bigint", "kbyte", "phys.size;meta.file", "Estimated size of dataset in kilo bytes")
        .utype("obscore:Access.Size").flags(OBSCORE_STD),
    col("target_name", "text", "", "meta.id;src", "Astronomical object observed, if any")
        .utype("obscore:Target.Name").flags(OBSCORE_STD | PRINCIPAL),
    col("target_class", "text", "", "src.class", "Class of the target/object as in SSA")
        .utype("obscore:Target.Class").flags(OBSCORE_STD),
    col("s_ra", "double precision", "deg", "pos.eq.ra", "Central right ascension, ICRS")
        .utype("obscore:Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C1")
        .flags(OBSCORE_STD | PRINCIPAL | INDEXED),
    col("s_dec", "double precision", "deg", "pos.eq.dec", "Central declination, ICRS")
        .utype("obscore:Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C2")
        .flags(OBSCORE_STD | PRINCIPAL | INDEXED),
    col("s_fov", "double precision", "deg", "phys.angSize;instr.fov",
        "Diameter (bounds) of the covered region")
        .utype("obscore:Char.SpatialAxis.Coverage.Bounds.Extent.diameter").flags(OBSCORE_STD | PRINCIPAL),
    col("s_region", "spoly", "", "pos.outline;obs.field",
        "Sky region covered by the data product (expressed in ICRS frame)")
        .utype("obscore:Char.SpatialAxis.Coverage.Support.Area")
        .flags(OBSCORE_STD | PRINCIPAL | INDEXED | REGION),
    col("s_resolution", "double precision", "arcsec", "pos.angResolution",
        "Spatial resolution of data as FWHM")
        .utype("obscore:Char.SpatialAxis.Resolution.Refval.value").flags(OBSCORE_STD),
    col("s_xel1", "bigint", "", "meta.number", "Number of elements along the first spatial axis")
        .utype("obscore:Char.SpatialAxis.numBins1").flags(OBSCORE_STD),
    col("s_xel2", "bigint", "", "meta.number", "Number of elements along the second spatial axis")
        .utype("obscore:Char.SpatialAxis.numBins2").flags(OBSCORE_STD),
    col("s_pixel_scale", "double precision", "arcsec", "phys.angSize;instr.pixel",
        "Sampling period in world coordinate units along the spatial axis")
        .utype("obscore:Char.SpatialAxis.Sampling.RefVal.SamplingPeriod").flags(OBSCORE_STD),
    col("t_min", "double precision", "d", "time.start;obs.exposure", "Start time in MJD")
        .utype("obscore:Char.TimeAxis.Coverage.Bounds.Limits.StartTime").flags(OBSCORE_STD | PRINCIPAL),
    col("t_max", "double precision", "d", "time.end;obs.exposure", "Stop time in MJD")
        .utype("obscore:Char.TimeAxis.Coverage.Bounds.Limits.StopTime").flags(OBSCORE_STD | PRINCIPAL),
    col("t_exptime", "double precision", "s", "time.duration;obs.exposure", "Total exposure time")
        .utype("obscore:Char.TimeAxis.Coverage.Support.Extent").flags(OBSCORE_STD | PRINCIPAL),
    col("t_resolution", "double precision", "s", "time.resolution", "Temporal resolution FWHM")
        .utype("obscore:Char.TimeAxis.Resolution.Refval.value").flags(OBSCORE_STD),
    col("t_xel", "bigint", "", "meta.number", "Number of elements along the time axis")
        .utype("obscore:Char.TimeAxis.numBins").flags(OBSCORE_STD),
    col("em_min", "double precision", "m", "em.wl;stat.min",
        "Start in spectral coordinates (vacuum wavelength)")
        .utype("obscore:Char.SpectralAxis.Coverage.Bounds.Limits.LoLimit").flags(OBSCORE_STD | PRINCIPAL),
    col("em_max", "double precision", "m", "em.wl;stat.max",
        "Stop in spectral coordinates (vacuum wavelength)")
        .utype("obscore:Char.SpectralAxis.Coverage.Bounds.Limits.HiLimit").flags(OBSCORE_STD | PRINCIPAL),
    col("em_res_power", "double precision", "", "spect.resolution",
        "Value of the resolving power along the spectral axis")
        .utype("obscore:Char.SpectralAxis.Resolution.ResolPower.refVal").flags(OBSCORE_STD),
    col("em_xel", "bigint", "", "meta.number", "Number of elements along the spectral axis")
        .utype("obscore:Char.SpectralAxis.numBins").flags(OBSCORE_STD),
    col("em_ucd", "text", "", "meta.ucd", "Nature of the spectral axis")
        .utype("obscore:Char.SpectralAxis.ucd").flags(OBSCORE_STD),
    col("o_ucd", "text", "", "meta.ucd", "UCD of observable (e.g. phot.flux.density, phot.count, etc.)")
        .utype("obscore:Char.ObservableAxis.ucd").flags(OBSCORE_STD),
    col("o_unit", "text", "", "meta.unit", "Unit of observable")
        .utype("obscore:Char.ObservableAxis.unit").flags(OBSCORE_STD),
    col("pol_states", "text", "", "meta.code;phys.polarization",
        "List of polarization states or NULL if not applicable")
        .utype("obscore:Char.PolarizationAxis.stateList").flags(OBSCORE_STD),
    col("pol_xel", "bigint", "", "meta.number", "Number of polarization samples")
        .utype("obscore:Char.PolarizationAxis.numBins").flags(OBSCORE_STD),
    col("facility_name", "text", "", "meta.id;instr.tel", "Name of the facility used for this observation")
        .utype("obscore:Provenance.ObsConfig.Facility.name").flags(OBSCORE_STD | PRINCIPAL),
    col("instrument_name", "text", "", "meta.id;instr", "Name of the instrument used for this observation")
        .utype("obscore:Provenance.ObsConfig.Instrument.name").flags(OBSCORE_STD | PRINCIPAL),
    col("proposal_id", "text", "", "meta.id;obs.proposal",
        "Identifier of the proposal the observation belongs to")
        .utype("obscore:Provenance.Proposal.identifier").flags(OBSCORE_STD),
];

static OBSCORE: TableDef = TableDef {
    schema: &IVOA,
    name: "ObsCore",
    description: "Observation metadata following the IVOA ObsCore 1.1 data model",
    utype: "ivo://ivoa.net/std/obscore#table-1.1",
    columns: &OBSCORE_COLUMNS,
};

#[rustfmt::skip]
static GAIA_COLUMNS: [Col; 26] = [
    col("solution_id", "bigint", "", "meta.version", "Solution identifier").flags(NOT_NULL),
    col("source_id", "bigint", "", "meta.id;meta.main", "Unique source identifier").flags(KEY | PRINCIPAL),
    col("random_index", "bigint", "", "meta.code", "Random index used to select subsets").flags(NOT_NULL),
    col("ref_epoch", "double precision", "yr", "meta.ref;time.epoch", "Reference epoch (Julian year)"),
    col("ra", "double precision", "deg", "pos.eq.ra;meta.main", "Right ascension (ICRS)")
        .flags(NOT_NULL | PRINCIPAL | INDEXED),
    col("ra_error", "double precision", "mas", "stat.error;pos.eq.ra", "Standard error of right ascension"),
    col("dec", "double precision", "deg", "pos.eq.dec;meta.main", "Declination (ICRS)")
        .flags(NOT_NULL | PRINCIPAL | INDEXED),
    col("dec_error", "double precision", "mas", "stat.error;pos.eq.dec", "Standard error of declination"),
    col("parallax", "double precision", "mas", "pos.parallax", "Parallax").flags(PRINCIPAL),
    col("parallax_error", "double precision", "mas", "stat.error;pos.parallax", "Standard error of parallax"),
    col("pmra", "double precision", "mas/yr", "pos.pm;pos.eq.ra",
        "Proper motion in right ascension (times cos dec)")
        .flags(PRINCIPAL),
    col("pmra_error", "double precision", "mas/yr", "stat.error;pos.pm;pos.eq.ra",
        "Standard error of proper motion in right ascension"),
    col("pmdec", "double precision", "mas/yr", "pos.pm;pos.eq.dec", "Proper motion in declination")
        .flags(PRINCIPAL),
    col("pmdec_error", "double precision", "mas/yr", "stat.error;pos.pm;pos.eq.dec",
        "Standard error of proper motion in declination"),
    col("ra_dec_corr", "real", "", "stat.correlation", "Correlation between right ascension and declination"),
    col("astrometric_n_obs_al", "integer", "", "meta.number", "Total number of observations AL"),
    col("astrometric_excess_noise", "double precision", "mas", "stat.value", "Excess noise of the source"),
    col("phot_g_n_obs", "integer", "", "meta.number", "Number of observations contributing to G photometry"),
    col("phot_g_mean_flux", "double precision", "e-/s", "phot.flux;em.opt", "G-band mean flux"),
    col("phot_g_mean_flux_error", "double precision", "e-/s", "stat.error;phot.flux;em.opt",
        "Error on G-band mean flux"),
    col("phot_g_mean_mag", "double precision", "mag", "phot.mag;em.opt", "G-band mean magnitude")
        .flags(PRINCIPAL | INDEXED),
    col("phot_variable_flag", "text", "", "meta.code;src.var", "Photometric variability flag"),
    col("l", "double precision", "deg", "pos.galactic.lon", "Galactic longitude"),
    col("b", "double precision", "deg", "pos.galactic.lat", "Galactic latitude"),
    col("ecl_lon", "double precision", "deg", "pos.ecliptic.lon", "Ecliptic longitude"),
    col("ecl_lat", "double precision", "deg", "pos.ecliptic.lat", "Ecliptic latitude"),
];

static GAIA_SOURCE: TableDef = TableDef {
    schema: &GAIADR1,
    name: "gaia_source",
    description: "Gaia DR1 source catalogue (demo: 5,000 synthetic sources, a fifth of them around Sgr A*)",
    utype: "",
    columns: &GAIA_COLUMNS,
};

#[rustfmt::skip]
static LL_COLUMNS: [Col; 11] = [
    col("data_item_oid", "bigint", "", "meta.id;meta.main", "Internal identifier of the data item")
        .flags(KEY),
    col("data_item_id", "text", "", "meta.id",
        "Data item identifier (file name without version and extension)")
        .flags(PRINCIPAL | NOT_NULL),
    col("instrument", "text", "", "meta.id;instr", "Instrument (EPD, MAG, RPW, SWA, ...)")
        .flags(PRINCIPAL | INDEXED | NOT_NULL),
    col("descriptor", "text", "", "meta.code", "Data product descriptor").flags(PRINCIPAL | DELIMITED),
    col("level", "text", "", "meta.code;obs.calib", "Processing level (LL02, LL03, ...)").flags(DELIMITED),
    col("begin_time", "timestamp", "", "time.start", "Start of the data in the file (UTC)")
        .flags(PRINCIPAL | INDEXED | NOT_NULL),
    col("end_time", "timestamp", "", "time.end", "End of the data in the file (UTC)").flags(PRINCIPAL),
    col("filename", "text", "", "meta.id;meta.file", "File name").flags(PRINCIPAL),
    col("filepath", "text", "", "meta.ref;meta.file", "Path of the file in the archive"),
    col("filesize", "bigint", "byte", "phys.size;meta.file", "File size"),
    col("version", "text", "", "meta.version", "Product version"),
];

static LL_DATA_ITEM: TableDef = TableDef {
    schema: &PUBLIC,
    name: "v_ll_data_item",
    description: "Solar Orbiter low-latency data items, one row per file (demo copy of the SOAR view)",
    utype: "",
    columns: &LL_COLUMNS,
};

#[rustfmt::skip]
static AUX_COLUMNS: [Col; 8] = [
    col("instrument", "text", "", "meta.id;instr", "Instrument or subsystem the file belongs to")
        .flags(PRINCIPAL | NOT_NULL),
    col("descriptor", "text", "", "meta.code", "Auxiliary product descriptor").flags(PRINCIPAL | DELIMITED),
    col("begin_time", "timestamp", "", "time.start", "Start of validity (UTC)").flags(PRINCIPAL),
    col("end_time", "timestamp", "", "time.end", "End of validity (UTC)").flags(PRINCIPAL),
    col("filename", "text", "", "meta.id;meta.file", "File name").flags(PRINCIPAL),
    col("filepath", "text", "", "meta.ref;meta.file", "Path of the file in the archive"),
    col("filesize", "bigint", "byte", "phys.size;meta.file", "File size"),
    col("version", "text", "", "meta.version", "Product version"),
];

static AUXILIARY_FILE: TableDef = TableDef {
    schema: &PUBLIC,
    name: "v_auxiliary_file",
    description: "Solar Orbiter auxiliary files, one row per file (demo copy of the SOAR view)",
    utype: "",
    columns: &AUX_COLUMNS,
};

#[rustfmt::skip]
static QUASAR_COLUMNS: [Col; 3] = [
    col("recno", "integer", "", "meta.record", "Record number").flags(KEY | PRINCIPAL),
    col("lambda", "double precision", "Angstrom", "em.wl", "Observed wavelength").flags(PRINCIPAL | NOT_NULL),
    col("flux", "double precision", "mJy", "phot.flux.density", "Flux density").flags(PRINCIPAL),
];

static QUASAR_A: TableDef = TableDef {
    schema: &PUBLIC,
    name: "J/A+A/605/L8/quasar_a",
    description: "Spectrum of a quasar (demo stand-in for the VizieR table of that name; synthetic)",
    utype: "",
    columns: &QUASAR_COLUMNS,
};

#[rustfmt::skip]
static NUCAND_COLUMNS: [Col; 6] = [
    col("id", "integer", "", "meta.id;meta.main", "Event number").flags(KEY | PRINCIPAL),
    col("mjd", "double precision", "d", "time.epoch", "Date of the event").flags(PRINCIPAL),
    col("nualpha", "double precision", "deg", "pos.eq.ra;meta.main",
        "Right ascension of the reconstructed neutrino")
        .flags(PRINCIPAL | INDEXED | NOT_NULL),
    col("nudelta", "double precision", "deg", "pos.eq.dec;meta.main",
        "Declination of the reconstructed neutrino")
        .flags(PRINCIPAL | INDEXED | NOT_NULL),
    col("nch", "integer", "", "meta.number", "Number of optical modules hit (an energy proxy)")
        .flags(PRINCIPAL | NOT_NULL),
    col("sigma", "double precision", "deg", "stat.error;pos", "Angular uncertainty of the direction"),
];

static NUCAND: TableDef = TableDef {
    schema: &AMANDA,
    name: "nucand",
    description: "AMANDA-II neutrino candidates (demo: 200 synthetic events)",
    utype: "",
    columns: &NUCAND_COLUMNS,
};

#[rustfmt::skip]
static PPMXL_COLUMNS: [Col; 12] = [
    col("ipix", "bigint", "", "meta.id;meta.main", "Star identifier").flags(KEY | PRINCIPAL),
    col("raj2000", "double precision", "deg", "pos.eq.ra;meta.main", "Right ascension, ICRS, epoch J2000")
        .flags(PRINCIPAL | INDEXED | NOT_NULL),
    col("dej2000", "double precision", "deg", "pos.eq.dec;meta.main", "Declination, ICRS, epoch J2000")
        .flags(PRINCIPAL | INDEXED | NOT_NULL),
    col("e_raj2000", "double precision", "mas", "stat.error;pos.eq.ra", "Error of the right ascension"),
    col("e_dej2000", "double precision", "mas", "stat.error;pos.eq.dec", "Error of the declination"),
    col("pmra", "double precision", "mas/yr", "pos.pm;pos.eq.ra", "Proper motion in RA (times cos dec)")
        .flags(PRINCIPAL),
    col("pmde", "double precision", "mas/yr", "pos.pm;pos.eq.dec", "Proper motion in Dec").flags(PRINCIPAL),
    col("jmag", "real", "mag", "phot.mag;em.IR.J", "J magnitude from 2MASS"),
    col("hmag", "real", "mag", "phot.mag;em.IR.H", "H magnitude from 2MASS"),
    col("kmag", "real", "mag", "phot.mag;em.IR.K", "K magnitude from 2MASS"),
    col("b1mag", "real", "mag", "phot.mag;em.opt.B", "B magnitude from USNO-B, first epoch"),
    col("r1mag", "real", "mag", "phot.mag;em.opt.R", "R magnitude from USNO-B, first epoch"),
];

static PPMXL_MAIN: TableDef = TableDef {
    schema: &PPMXL,
    name: "main",
    description: "PPMXL stars (demo: synthetic, clustered around the bright AMANDA candidates)",
    utype: "",
    columns: &PPMXL_COLUMNS,
};

#[rustfmt::skip]
static HSA_COLUMNS: [Col; 11] = [
    col("observation_id", "bigint", "", "meta.id;meta.main", "Observation identifier").flags(KEY | PRINCIPAL),
    col("od", "integer", "", "time.epoch", "Operational day of the observation"),
    col("target_name", "text", "", "meta.id;src", "Target name").flags(PRINCIPAL),
    col("instrument", "text", "", "meta.id;instr", "Instrument (PACS, SPIRE, HIFI)").flags(PRINCIPAL),
    col("observing_mode", "text", "", "instr.setup", "Observing mode"),
    col("ra", "double precision", "deg", "pos.eq.ra;meta.main", "Right ascension of the pointing")
        .flags(PRINCIPAL | INDEXED),
    col("dec", "double precision", "deg", "pos.eq.dec;meta.main", "Declination of the pointing")
        .flags(PRINCIPAL | INDEXED),
    col("start_time", "timestamp", "", "time.start", "Start of the observation (UTC)").flags(PRINCIPAL),
    col("end_time", "timestamp", "", "time.end", "End of the observation (UTC)"),
    col("duration", "double precision", "s", "time.duration", "Duration of the observation"),
    col("proposal_id", "text", "", "meta.id;obs.proposal", "Proposal identifier"),
];

static HSA_OBSERVATION: TableDef = TableDef {
    schema: &HSA,
    name: "v_active_observation",
    description: "Herschel observations (demo: 30 pointings)",
    utype: "",
    columns: &HSA_COLUMNS,
};

/// The demo tables with the SQL that fills and indexes each (bench.objects aside).
pub(crate) static TABLES: [(&TableDef, &str); 9] = [
    (&OBSCORE, include_str!("sql/obscore.sql")),
    (&GAIA_SOURCE, include_str!("sql/gaia_source.sql")),
    (&LL_DATA_ITEM, include_str!("sql/soar.sql")),
    (&AUXILIARY_FILE, ""), // filled by soar.sql
    (&QUASAR_A, include_str!("sql/vizier.sql")),
    (&NUCAND, include_str!("sql/gavo.sql")),
    (&PPMXL_MAIN, ""), // filled by gavo.sql
    (&HSA_OBSERVATION, include_str!("sql/hsa.sql")),
    (&bench::OBJECTS, ""), // built by bench::build
];

/// Create (or refresh) the demo catalogue and its TAP_SCHEMA rows.
pub(crate) async fn load(client: &Client) -> Result<(), DbError> {
    load_demo(client, false).await
}

/// At start-up of the embedded cluster: load the demo unless this version is already there.
pub(crate) async fn load_if_missing(client: &Client) -> Result<(), DbError> {
    load_demo(client, true).await
}

async fn load_demo(client: &Client, only_if_missing: bool) -> Result<(), DbError> {
    client.batch_execute("BEGIN").await?;
    let result = load_in_transaction(client, only_if_missing).await;
    let loaded = finish(client, result).await?;
    if !loaded {
        return Ok(());
    }
    for (table, _) in &TABLES {
        catalogue::analyze(client, table).await?;
    }
    tracing::info!("demo catalogue loaded");
    Ok(())
}

/// Returns whether it loaded anything.
async fn load_in_transaction(client: &Client, only_if_missing: bool) -> Result<bool, DbError> {
    client
        .execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_LOAD])
        .await
        .map_err(DbError::query("cannot take the load lock"))?;
    // Checked under the lock: another Tapir may have just loaded it.
    if only_if_missing && catalogue::get_state(client, "demo_version").await?.as_deref() == Some(DEMO_VERSION)
    {
        return Ok(false);
    }
    catalogue::ensure_managed_tap_schema(client).await?;
    for (table, _) in &TABLES {
        catalogue::check_replaceable(client, table).await?;
    }
    tracing::info!("loading the demo catalogue");
    for (table, _) in &TABLES {
        if std::ptr::eq(*table, &bench::OBJECTS) {
            continue;
        }
        catalogue::ensure_schema(client, table.schema).await?;
        catalogue::drop_table(client, table).await?;
        client
            .batch_execute(&format!(
                "{}; COMMENT ON TABLE {} IS {}",
                table.create_sql(&table.sql_name(), true),
                table.sql_name(),
                catalogue::literal(table.description)
            ))
            .await
            .map_err(DbError::query(format!("cannot create {}", table.key())))?;
    }
    for (table, fill) in &TABLES {
        if !fill.is_empty() {
            client
                .batch_execute(fill)
                .await
                .map_err(DbError::query(format!("cannot fill {}", table.key())))?;
        }
    }
    // A bench.objects from `tapir load bench` (maybe millions of rows) is kept.
    let bench_loader = catalogue::loader_of(client, &bench::OBJECTS).await?;
    if bench_loader.as_deref() == Some("bench") {
        tracing::info!("keeping bench.objects as `tapir load bench` made it");
    } else {
        bench::build(client, DEMO_BENCH_ROWS, "demo").await?;
    }
    for (i, (table, _)) in TABLES.iter().enumerate() {
        if !std::ptr::eq(*table, &bench::OBJECTS) {
            let rows: i64 = client
                .query_one(&format!("SELECT count(*) FROM {}", table.sql_name()), &[])
                .await?
                .get(0);
            catalogue::record(client, table, "demo", rows).await?;
        }
        catalogue::publish(client, table, i as i32 + 1).await?;
        catalogue::grant_read(client, table).await?;
    }
    catalogue::set_state(client, "demo_version", DEMO_VERSION).await?;
    Ok(true)
}
