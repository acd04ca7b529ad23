package org.glouglou.viz.gs;

import java.awt.BasicStroke;
import java.awt.BorderLayout;
import java.awt.Color;
import java.awt.Dimension;
import java.awt.FlowLayout;
import java.awt.Font;
import java.awt.Graphics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.event.MouseAdapter;
import java.awt.event.MouseEvent;
import java.awt.image.BufferedImage;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.function.Consumer;
import javax.swing.BorderFactory;
import javax.swing.JButton;
import javax.swing.JComboBox;
import javax.swing.JComponent;
import javax.swing.JLabel;
import javax.swing.JPanel;
import javax.swing.JScrollPane;
import javax.swing.JTextArea;
import javax.swing.JTextField;
import javax.swing.JToolBar;
import org.glouglou.viz.client.UsageException;
import org.glouglou.viz.client.ViewFilter;
import org.graphstream.graph.Edge;
import org.graphstream.graph.Graph;
import org.graphstream.graph.Node;
import org.graphstream.ui.graphicGraph.GraphicElement;
import org.graphstream.ui.swing_viewer.DefaultView;
import org.graphstream.ui.view.util.InteractiveElement;

/**
 * The desktop viewer's window content (issue 6): a toolbar (address/CIDR, port, protocol, level of detail) that sends
 * a new configuration, the GraphStream view, a legend, the clicked node's details, and a status bar with the
 * connection state, counts, updates per second and what the server reported (resyncs, notices). It is a plain panel
 * so that a screenshot can be painted from it with or without a frame around it.
 */
final class ViewerWindow extends JPanel {
    private final Graph graph;
    private final DefaultView view;
    private final JLabel status = new JLabel(" ");
    private final JTextArea details = new JTextArea(14, 26);
    private final JTextField address = new JTextField(14);
    private final JTextField port = new JTextField(5);
    private final JComboBox<String> protocol = new JComboBox<>(new String[]{"", "tcp", "udp", "icmp"});
    private final JComboBox<String> level = new JComboBox<>(ViewFilter.LEVELS.toArray(String[]::new));

    ViewerWindow(Graph graph, DefaultView view, ViewFilter initial, Consumer<ViewFilter> apply) {
        super(new BorderLayout());
        this.graph = graph;
        this.view = view;
        address.setText(String.join(",", initial.addresses()));
        port.setText(initial.ports().stream().map(String::valueOf).reduce((a, b) -> a + "," + b).orElse(""));
        protocol.setEditable(true);
        protocol.setSelectedItem(String.join(",", initial.protocols()));
        level.setSelectedItem(initial.level());
        JToolBar bar = new JToolBar();
        bar.setFloatable(false);
        bar.setLayout(new FlowLayout(FlowLayout.LEFT, 6, 2));
        bar.add(new JLabel("address/CIDR"));
        bar.add(address);
        bar.add(new JLabel("port"));
        bar.add(port);
        bar.add(new JLabel("protocol"));
        bar.add(protocol);
        bar.add(new JLabel("level"));
        bar.add(level);
        JButton go = new JButton("Apply");
        go.addActionListener(e -> {
            try {
                apply.accept(initial.with(address.getText(), port.getText(), String.valueOf(protocol
                        .getSelectedItem()), String.valueOf(level.getSelectedItem())));
            } catch (UsageException ex) {
                details.setText(ex.getMessage());
            }
        });
        address.addActionListener(e -> go.doClick());
        port.addActionListener(e -> go.doClick());
        bar.add(go);
        add(bar, BorderLayout.NORTH);
        view.setPreferredSize(new Dimension(900, 640));
        add(view, BorderLayout.CENTER);
        JPanel side = new JPanel(new BorderLayout());
        side.add(new Legend(), BorderLayout.NORTH);
        details.setEditable(false);
        details.setFont(new Font(Font.MONOSPACED, Font.PLAIN, 11));
        details.setText("click a node for its details");
        side.add(new JScrollPane(details), BorderLayout.CENTER);
        add(side, BorderLayout.EAST);
        status.setBorder(BorderFactory.createEmptyBorder(3, 6, 3, 6));
        add(status, BorderLayout.SOUTH);
        view.addMouseListener(new MouseAdapter() {
            @Override
            public void mouseClicked(MouseEvent e) {
                GraphicElement el = view.findGraphicElementAt(EnumSet.of(InteractiveElement.NODE), e.getX(), e.getY());
                if (el != null) {
                    details.setText(details(el.getId()));
                    details.setCaretPosition(0);
                }
            }
        });
    }

    void status(String text) {
        status.setText(text);
    }

    /** A node's attributes and its traffic, for the details pane. */
    String details(String id) {
        StringBuilder b = new StringBuilder();
        synchronized (graph) {
            Node n = graph.getNode(id);
            if (n == null) {
                return id + ": gone";
            }
            b.append(id).append('\n');
            TreeMap<String, Object> a = new TreeMap<>();
            n.attributeKeys().filter(k -> !k.startsWith("ui.")).forEach(k -> a.put(k, n.getAttribute(k)));
            a.forEach((k, v) -> b.append("  ").append(k).append(" = ").append(text(v)).append('\n'));
            b.append(n.getDegree()).append(" peers:\n");
            n.edges().sorted((x, y) -> Long.compare(GraphStyler.number(y.getAttribute("bytes")), GraphStyler.number(x
                    .getAttribute("bytes")))).limit(20).forEach(e -> {
                        Node o = e.getOpposite(n);
                        b.append("  ").append(label(o)).append("  ").append(GraphStyler.number(e.getAttribute(
                                "bytes"))).append(" B").append(ports(e)).append('\n');
                    });
        }
        return b.toString();
    }

    private static String label(Node n) {
        Object l = n.getAttribute("label");
        return l == null ? n.getId() : l.toString();
    }

    private static String ports(Edge e) {
        Object p = e.getAttribute("ports");
        return p == null ? "" : " port " + text(p);
    }

    static String text(Object v) {
        if (v instanceof Object[] a) {
            return String.join(",", java.util.Arrays.stream(a).map(String::valueOf).toList());
        }
        if (v instanceof List<?> l) {
            return String.join(",", l.stream().map(String::valueOf).toList());
        }
        return String.valueOf(v);
    }

    /** The window's picture, as on screen: graph, legend, status bar. */
    BufferedImage render() {
        int w = Math.max(1, getWidth());
        int h = Math.max(1, getHeight());
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            printAll(g);
        } finally {
            g.dispose();
        }
        return img;
    }

    /** What the colours and widths mean. */
    static final class Legend extends JComponent {
        Legend() {
            setPreferredSize(new Dimension(200, 215));
        }

        @Override
        protected void paintComponent(Graphics g0) {
            Graphics2D g = (Graphics2D) g0;
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, getWidth(), getHeight());
            g.setColor(Color.DARK_GRAY);
            g.setFont(getFont().deriveFont(Font.BOLD, 12f));
            int y = 18;
            g.drawString("hosts (size: traffic)", 8, y);
            g.setFont(getFont().deriveFont(Font.PLAIN, 11f));
            Object[][] kinds = {{GraphStyler.LOCAL, "local host"}, {GraphStyler.REMOTE, "remote host"},
                    {GraphStyler.GROUP, "group (subnet, domain)"}, {GraphStyler.PROCESS, "process"}};
            for (Object[] k : kinds) {
                y += 18;
                g.setColor((Color) k[0]);
                g.fillOval(12, y - 10, 11, 11);
                g.setColor(Color.DARK_GRAY);
                g.drawString((String) k[1], 30, y);
            }
            y += 26;
            g.setFont(getFont().deriveFont(Font.BOLD, 12f));
            g.drawString("traffic (width: rate)", 8, y);
            g.setFont(getFont().deriveFont(Font.PLAIN, 11f));
            Object[][] protos = {{GraphStyler.TCP, "tcp"}, {GraphStyler.UDP, "udp"}, {GraphStyler.ICMP, "icmp"},
                    {GraphStyler.OTHER, "other (mixed: blended)"}};
            for (Object[] p : protos) {
                y += 18;
                g.setColor((Color) p[0]);
                g.setStroke(new BasicStroke(3f));
                g.drawLine(12, y - 4, 26, y - 4);
                g.setColor(Color.DARK_GRAY);
                g.drawString((String) p[1], 30, y);
            }
            y += 14;
            g.setStroke(new BasicStroke(1f));
            g.drawString(String.format(Locale.ROOT, "idle %.0f px ... 1 MB/s %.0f px", GraphStyler.edgeWidth(0),
                    GraphStyler.edgeWidth(1_000_000)), 12, y + 6);
        }
    }
}
