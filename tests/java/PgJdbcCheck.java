// PgJDBC against lakegate's PostgreSQL port, as a Java BI tool or DBeaver would use it:
// connect, read DatabaseMetaData (tables, then columns), run a prepared query with bound
// parameters. Prints tab-separated lines the Rust test checks:
//   table <schema> <name> <type>
//   column <table> <name> <type name> <nullable>
//   primary_keys <table> <count>
//   scale <column> <precision> <scale>      (of the prepared query's decimal column)
//   row <value>...
// Usage: java -cp postgresql.jar:. PgJdbcCheck <port> <user> <password>
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.Date;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.util.Properties;

public class PgJdbcCheck {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/lake";
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        props.setProperty("password", args[2]);
        props.setProperty("connectTimeout", "10");
        // Every statement through the extended protocol with server-side prepared statements.
        props.setProperty("prepareThreshold", "1");
        try (Connection conn = DriverManager.getConnection(url, props)) {
            DatabaseMetaData meta = conn.getMetaData();
            System.out.println("product\t" + meta.getDatabaseProductName() + "\t"
                + meta.getDatabaseProductVersion());
            try (ResultSet tables = meta.getTables(null, "tpch", "%", new String[] {"TABLE"})) {
                while (tables.next()) {
                    System.out.println("table\t" + tables.getString("TABLE_SCHEM") + "\t"
                        + tables.getString("TABLE_NAME") + "\t" + tables.getString("TABLE_TYPE"));
                }
            }
            try (ResultSet columns = meta.getColumns(null, "tpch", "nation", "%")) {
                while (columns.next()) {
                    System.out.println("column\t" + columns.getString("TABLE_NAME") + "\t"
                        + columns.getString("COLUMN_NAME") + "\t" + columns.getString("TYPE_NAME")
                        + "\t" + columns.getString("IS_NULLABLE"));
                }
            }
            // Lake tables have no primary key: an empty answer, not an error.
            try (ResultSet keys = meta.getPrimaryKeys(null, "tpch", "nation")) {
                int count = 0;
                while (keys.next()) {
                    count++;
                }
                System.out.println("primary_keys\tnation\t" + count);
            }
            String sql = "SELECT l_returnflag, l_linestatus, count(*) AS n, sum(l_quantity) AS qty"
                + " FROM tpch.lineitem WHERE l_shipdate <= ? AND l_quantity < ?"
                + " GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus";
            try (PreparedStatement stmt = conn.prepareStatement(sql)) {
                // Run twice: the second run reuses the server-side statement.
                for (int run = 0; run < 2; run++) {
                    stmt.setDate(1, Date.valueOf("1998-09-02"));
                    stmt.setBigDecimal(2, new BigDecimal("30"));
                    try (ResultSet rows = stmt.executeQuery()) {
                        ResultSetMetaData rm = rows.getMetaData();
                        if (run == 1) {
                            System.out.println("scale\t" + rm.getColumnName(4) + "\t"
                                + rm.getPrecision(4) + "\t" + rm.getScale(4));
                        }
                        while (rows.next()) {
                            if (run == 0) {
                                continue;
                            }
                            StringBuilder line = new StringBuilder("row");
                            for (int i = 1; i <= rm.getColumnCount(); i++) {
                                line.append('\t').append(rows.getString(i));
                            }
                            System.out.println(line);
                        }
                    }
                }
            }
        }
    }
}
