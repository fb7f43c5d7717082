import journal from './meta/_journal.json';
import m0000 from './0000_init.sql';
import m0001 from './0001_export_state.sql';
import m0002 from './0002_order_line_cancellations.sql';
import m0003 from './0003_hash_chain.sql';
import m0004 from './0004_head_hash.sql';
import m0005 from './0005_unhashed_rows_index.sql';
import m0006 from './0006_change_feed.sql';

  export default {
    journal,
    migrations: {
      m0000,
m0001,
m0002,
m0003,
m0004,
m0005,
m0006
    }
  }
  